import { describe, expect, it } from 'vitest';
import {
  flatFixedPath,
  nixBase32,
  recursiveFixedPath,
  STORE_NAME_PATTERN,
  sanitizeStoreName,
  storeNameOf,
} from '../../src/offline/storePath.js';

describe('storeNameOf', () => {
  it('joins name, version and arch with "=" and keeps plain versions readable', () => {
    expect(storeNameOf('bash', '5.2.15-3', 'amd64')).toBe('bash=5.2.15-3=amd64.deb');
  });
  it('maps an epoch (":" or apt\'s "%3a") to a store-safe eN= prefix, the same both ways', () => {
    expect(storeNameOf('cpp-riscv64-linux-gnu', '4:12.2.0-5', 'amd64')).toBe(
      'cpp-riscv64-linux-gnu=e4=12.2.0-5=amd64.deb',
    );
    expect(storeNameOf('cpp-riscv64-linux-gnu', '4%3a12.2.0-5', 'amd64')).toBe(
      'cpp-riscv64-linux-gnu=e4=12.2.0-5=amd64.deb',
    );
  });
  it('maps "~" and keeps distinct versions distinct', () => {
    const a = storeNameOf('x', '1.0~rc1-1', 'all');
    const b = storeNameOf('x', '1.0-rc1-1', 'all');
    expect(a).toMatch(STORE_NAME_PATTERN);
    expect(a).not.toBe(b);
    expect(storeNameOf('x', '1:1.0', 'all')).not.toBe(storeNameOf('x', '1.0', 'all'));
  });
  it('never produces a character nix refuses, nor a leading dot', () => {
    for (const raw of ['a_b:c~d%e f', '.hidden', 'ü/ß']) {
      const s = sanitizeStoreName(raw);
      expect(s).toMatch(STORE_NAME_PATTERN);
      expect(s.startsWith('.')).toBe(false);
    }
  });
});

describe('fixed-output store paths (values checked against nix-store --print-fixed-path)', () => {
  it('computes a flat sha256 path', () => {
    // printf 'hello\n' > hello-1.0.deb; nix-store --add-fixed sha256 hello-1.0.deb
    expect(
      flatFixedPath('5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03', 'hello-1.0.deb'),
    ).toBe('/nix/store/80zyw3bz3mfq2dkpfpxrmc32r7q4mnn8-hello-1.0.deb');
  });
  it('computes a recursive (NAR) path', () => {
    expect(recursiveFixedPath('sha256-SUza0DfPfQp17oFvwGC5JmPeEwlgKv9DwvnOVdreTEA=', 'busybox-test')).toBe(
      '/nix/store/dkyyl33aip4rbfv8fjf7qmgx4rb5664a-busybox-test',
    );
  });
  it("encodes base-32 with nix's alphabet and length", () => {
    expect(nixBase32(new Uint8Array(20))).toBe('0'.repeat(32));
    expect(nixBase32(Uint8Array.from([1]))).toBe('01');
  });
});
