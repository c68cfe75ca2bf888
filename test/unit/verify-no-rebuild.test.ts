/**
 * `verify --no-rebuild` against a signed Heads-style hashes.txt and a downloaded ROM: the
 * real ssh-keygen signs and checks; no workspace, engine or nix is touched (the
 * workspace path does not exist).
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signFiles } from '../../src/release/sign.js';
import { verifyRelease } from '../../src/release/verify.js';
import { UsageError } from '../../src/util/errors.js';
import { sha256Bytes } from '../../src/util/sha256.js';

let dir = '';
let hashes = '';
let rom = '';
let key = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rr-norebuild-'));
  rom = join(dir, 'heads-x230.rom');
  await writeFile(rom, 'rom bytes\n');
  hashes = join(dir, 'hashes.txt');
  await writeFile(
    hashes,
    `2025-10-01 12:34:56+00:00 3f2a9c1 clean\n${sha256Bytes('rom bytes\n')}  /home/ci/heads/build/x86/x230/heads-x230.rom\n${'1'.repeat(64)}  /home/ci/heads/build/x86/x230/initrd.cpio.xz\n`,
  );
  key = join(dir, 'signer');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'signer', '-f', key]);
  await signFiles([hashes], key, 'ssh');
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const check = (romFile: string, withKey = true) =>
  verifyRelease(hashes, {
    workspace: join(dir, 'no-such-workspace'),
    noRebuild: true,
    rom: romFile,
    ...(withKey ? { key: `${key}.pub` } : {}),
  });

describe('verify --no-rebuild with a Heads-style hashes.txt', () => {
  it('accepts the ROM whose sha256 the signed list gives its name', async () => {
    const r = await check(rom);
    expect(r).toMatchObject({ ok: true, rebuilt: false, mode: 'heads' });
    expect(r.signature?.ok).toBe(true);
    expect(r.integrity[0]?.message).toContain('as the signed hashes.txt lists for');
  });

  it('refuses a ROM changed by one byte, naming both hashes', async () => {
    await mkdir(join(dir, 'bad'));
    const renamed = join(dir, 'bad', 'heads-x230.rom');
    await writeFile(renamed, 'rom bytez\n');
    const r = await check(renamed);
    expect(r.ok).toBe(false);
    expect(r.integrity[0]?.message).toMatch(
      new RegExp(
        `has sha256 ${sha256Bytes('rom bytez\n')}, but the signed hashes.txt lists ${sha256Bytes('rom bytes\n')}`,
      ),
    );
  });

  it('refuses a hashes.txt changed after signing, before looking at the ROM', async () => {
    const text = `${await readFile(hashes, 'utf8')}${'2'.repeat(64)}  evil.rom\n`;
    const changed = join(dir, 'changed.txt');
    await writeFile(changed, text);
    await copyFile(`${hashes}.sig`, `${changed}.sig`);
    const r = await verifyRelease(changed, {
      workspace: join(dir, 'no-such-workspace'),
      noRebuild: true,
      rom,
      key: `${key}.pub`,
    });
    expect(r.ok).toBe(false);
    expect(r.signature?.files[0]?.message).toMatch(/bad signature/);
    expect(r.integrity).toEqual([]);
  });

  it('without a key it says so, and without --rom it asks for one', async () => {
    const r = await check(rom, false);
    expect(r.ok).toBe(true);
    expect(r.signature).toBeNull();
    expect(r.notes.join('\n')).toMatch(/not signature-checked/);
    await expect(
      verifyRelease(hashes, { workspace: dir, noRebuild: true, key: `${key}.pub` }),
    ).rejects.toThrow(UsageError);
  });
});
