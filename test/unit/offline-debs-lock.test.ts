import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { missingFromAptOutput, parseSimulatedInstall, poolFoldersFromUris } from '../../src/offline/apt.js';
import { debPackage, lockedDebs, parseDebLock } from '../../src/offline/debsLock.js';
import { debianFileName } from '../../src/offline/fetch.js';
import { STORE_NAME_PATTERN, storeNameOf } from '../../src/offline/storePath.js';
import { ConfigError } from '../../src/util/errors.js';

const SHA = 'a'.repeat(64);
function lockWith(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    distribution: 'debian bookworm amd64',
    busybox: {
      deb: 'busybox-static',
      path: 'bin/busybox',
      storeName: 'busybox-1.35.0',
      narHash: `sha256-${'A'.repeat(43)}=`,
    },
    sets: { toolchain: { roots: ['bash'], debs: ['bash', 'busybox-static'] } },
    debs: {
      bash: {
        version: '5.2.15-3',
        arch: 'amd64',
        filename: 'bash_5.2.15-3_amd64.deb',
        sha256: SHA,
        size: 10,
        storeName: 'bash=5.2.15-3=amd64.deb',
      },
      'busybox-static': {
        version: '1:1.35.0-4',
        arch: 'amd64',
        filename: 'busybox-static_1.35.0-4_amd64.deb',
        sha256: SHA,
        size: 10,
        storeName: 'busybox-static=e1=1.35.0-4=amd64.deb',
      },
    },
    ...over,
  };
}

function problemsOf(text: string): string[] {
  try {
    parseDebLock(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.message);
    throw err;
  }
  return [];
}

describe('parseDebLock', () => {
  it('accepts a consistent lock and lists each deb once, sorted', () => {
    const lock = parseDebLock(JSON.stringify(lockWith()));
    expect(lockedDebs(lock).map((d) => d.name)).toEqual(['bash', 'busybox-static']);
    expect(lock.sets['toolchain']?.closure).toBe(true);
  });
  it('names a set member that has no deb entry', () => {
    const text = JSON.stringify(
      lockWith({ sets: { toolchain: { roots: ['bash'], debs: ['bash', 'gcc'] } } }),
    );
    expect(problemsOf(text)).toEqual(['sets.toolchain.debs: "gcc" has no entry in "debs"']);
  });
  it('refuses a bad sha256 and a store name nix would refuse', () => {
    const base = lockWith();
    const debs = base['debs'] as Record<string, Record<string, unknown>>;
    const broken = {
      ...base,
      debs: { ...debs, bash: { ...debs['bash'], sha256: 'ABC', storeName: 'bash 5.2:15.deb' } },
    };
    const problems = problemsOf(JSON.stringify(broken));
    expect(problems.some((p) => p.startsWith('debs.bash.sha256'))).toBe(true);
    expect(problems.some((p) => p.startsWith('debs.bash.storeName'))).toBe(true);
  });
  it('refuses a store name that differs from the one the rule gives (fetch and flake would disagree)', () => {
    const base = lockWith();
    const debs = base['debs'] as Record<string, Record<string, unknown>>;
    const broken = {
      ...base,
      debs: { ...debs, bash: { ...debs['bash'], storeName: 'bash_5.2.15-3_amd64.deb' } },
    };
    expect(problemsOf(JSON.stringify(broken))).toEqual([
      'debs.bash.storeName: expected "bash=5.2.15-3=amd64.deb", found "bash_5.2.15-3_amd64.deb"',
    ]);
  });
  it('reports invalid JSON as a config error', () => {
    expect(problemsOf('{')[0]).toMatch(/not valid JSON/);
  });
  it("accepts the repository's own lock, whose store names all follow the rule", async () => {
    const lock = parseDebLock(await readFile('pins/offline/debs.lock.json', 'utf8'));
    const debs = lockedDebs(lock);
    expect(debs.length).toBeGreaterThan(50);
    for (const d of debs) {
      expect(d.storeName).toMatch(STORE_NAME_PATTERN);
      expect(d.storeName).toBe(storeNameOf(debPackage(d.name), d.version, d.arch));
    }
    expect(new Set(debs.map((d) => d.storeName)).size).toBe(debs.length);
    for (const want of ['gcc', 'binutils', 'make', 'libc6-dev', 'python3', 'bash', 'coreutils', 'dash']) {
      expect(lock.sets['toolchain']?.debs).toContain(want);
    }
    expect(lock.sets['toolchain-riscv64']?.debs).toContain('gcc-riscv64-linux-gnu');
  });
});

describe('apt output parsing', () => {
  it('reads name and version from simulated Inst lines, sorted', () => {
    const out =
      'Inst libc6 (2.36-9+deb12u4 Debian:12.5/stable [amd64])\nConf libc6 (2.36-9)\nInst cpp (4:12.2.0-3 Debian:12.5/stable [amd64])\n';
    expect(parseSimulatedInstall(out)).toEqual([
      { name: 'cpp', version: '4:12.2.0-3' },
      { name: 'libc6', version: '2.36-9+deb12u4' },
    ]);
  });
  it('finds the package and version apt does not know', () => {
    const asked = [
      { name: 'xxd', version: '9.9-1' },
      { name: 'nosuch', version: '1' },
    ];
    const out = "E: Version '9.9-1' for 'xxd' was not found\nE: Unable to locate package nosuch\n";
    expect(missingFromAptOutput(out, asked)).toEqual(asked);
  });
});

describe('archive pool fallback', () => {
  it('takes the folders from apt-get download --print-uris lines, once each', () => {
    const printed = [
      "'http://deb.debian.org/debian-security/pool/updates/main/l/linux/linux-libc-dev_6.1.192-3_amd64.deb' linux-libc-dev_6.1.192-3_amd64.deb 2458036 SHA256:1b69",
      "'http://deb.debian.org/debian/pool/main/l/linux/linux-libc-dev_6.1.176-1_amd64.deb' linux-libc-dev_6.1.176-1_amd64.deb 2400000 SHA256:aa",
      "'http://deb.debian.org/debian-security/pool/updates/main/l/linux/linux-libc-dev_6.1.190-1_amd64.deb' x 1 SHA256:bb",
      'E: something else',
    ].join('\n');
    expect(poolFoldersFromUris(printed)).toEqual([
      'http://deb.debian.org/debian-security/pool/updates/main/l/linux/',
      'http://deb.debian.org/debian/pool/main/l/linux/',
    ]);
  });

  it('only fetches a file named as Debian names the locked version (epoch dropped)', () => {
    expect(debianFileName({ name: 'xxd', version: '2:9.0.1378-2', arch: 'amd64' })).toBe(
      'xxd_9.0.1378-2_amd64.deb',
    );
    expect(debianFileName({ name: 'linux-libc-dev', version: '6.1.192-2', arch: 'amd64' })).toBe(
      'linux-libc-dev_6.1.192-2_amd64.deb',
    );
  });
});
