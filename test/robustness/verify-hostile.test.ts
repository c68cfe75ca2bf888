/**
 * `verify` handed files that are not what they seem: a release ROM replaced by a link to
 * identical bytes elsewhere, FIFOs and /dev/zero where a ROM, a manifest or a key should
 * be, folders and foreign file URLs as arguments. Each is refused by name, at once (the
 * FIFO is never opened, /dev/zero never read), with one line and its exit code; never
 * VERIFIED. One tiny release is built and signed (real engine and ssh-keygen); every case
 * after it runs `verify --no-rebuild` or fails before a rebuild, so it costs milliseconds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Bytes } from '../../src/util/sha256.js';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { board, expectNoStack, tag } from './support.js';

const engine = await probeEngine();
const nix = await probeNix();
const ROM = 'hostile rom\n';
/** Every case must end promptly: a FIFO opened or /dev/zero read would run into this. */
const QUICK = { timeoutMs: 20_000 };

const mkfifo = (path: string): void => {
  execFileSync('mkfifo', [path]);
};

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('robustness: verify of hostile files', () => {
  const name = `${tag}-hostile`;
  let tmp = '';
  let ws = '';
  let signed = '';
  let pub = '';
  const rom = () => `${name}/out/bios.rom`;
  /** A copy of the signed release with `change` applied to it. */
  const tampered = async (change: (dir: string) => Promise<void>): Promise<string> => {
    const dir = await mkdtemp(join(tmp, 'copy-'));
    await cp(signed, dir, { recursive: true });
    await change(dir);
    return dir;
  };
  const expectRefused = (r: { exitCode: number; stdout: string; stderr: string }, what: RegExp) => {
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(what);
    expect(r.stdout).toMatch(/^NOT VERIFIED: /m);
    expect(r.stdout).not.toMatch(/^VERIFIED/m);
    expectNoStack(r.stderr);
  };
  const expectOneLine = (
    r: { exitCode: number; stdout: string; stderr: string },
    code: number,
    line: RegExp,
  ) => {
    expect(r.exitCode, r.stdout + r.stderr).toBe(code);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('reprorom:'));
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(line);
    expect(r.stderr).toMatch(/^ {2}→ /m);
    expect(r.stdout).not.toMatch(/^VERIFIED/m);
    expectNoStack(r.stderr);
  };

  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    tmp = await mkdtemp(join(tmpdir(), 'rr-vhostile-'));
    ws = await copyWorkspace('rr-vhostile-ws-');
    await board(
      ws,
      name,
      `commands: ['mkdir -p out && printf "hostile rom\\\\n" > out/bios.rom']\nartifacts: [out/bios.rom]\n`,
    );
    signed = join(tmp, 'release');
    const r = await runCli(['release', name, '-w', ws, '--out', signed, '--allow-dirty']);
    expect(r.exitCode, r.stderr).toBe(0);
    const key = join(tmp, 'signer');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'signer', '-f', key]);
    pub = `${key}.pub`;
    const s = await runCli(['sign', signed, '--key', key]);
    expect(s.exitCode, s.stderr).toBe(0);
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  it('a release ROM replaced by a link to an identical file outside the folder is NOT VERIFIED, with and without a rebuild', async () => {
    const outside = join(tmp, 'same-bytes.rom');
    const dir = await tampered(async (d) => {
      await copyFile(join(d, rom()), outside);
      await rm(join(d, rom()));
      await symlink(outside, join(d, rom()));
    });
    const link = new RegExp(
      `${rom()} is a symbolic link to ${outside}: a release folder holds regular files only`,
    );
    expectRefused(await runCli(['verify', dir, '--no-rebuild', '--key', pub], QUICK), link);
    // Refused before any image or container work.
    expectRefused(await runCli(['verify', dir, '-w', ws, '--key', pub], QUICK), link);
  });

  it.each([
    [
      'the ROM is a FIFO',
      'rom',
      (d: string, rel: string) => rm(join(d, rel)).then(() => mkfifo(join(d, rel))),
      'a named pipe',
    ],
    [
      'the ROM is a link to /dev/zero',
      'rom',
      (d: string, rel: string) => rm(join(d, rel)).then(() => symlink('/dev/zero', join(d, rel))),
      'a symbolic link to /dev/zero',
    ],
    [
      'manifest.json is a link to /dev/zero',
      'manifest.json',
      (d: string, rel: string) => rm(join(d, rel)).then(() => symlink('/dev/zero', join(d, rel))),
      'a symbolic link to /dev/zero',
    ],
    [
      'manifest.json.sig is a FIFO',
      'manifest.json.sig',
      (d: string, rel: string) => rm(join(d, rel)).then(() => mkfifo(join(d, rel))),
      'a named pipe',
    ],
  ] as const)('%s: NOT VERIFIED at once, naming it (exit 1)', async (_what, target, change, kind) => {
    const rel = target === 'rom' ? rom() : target;
    const dir = await tampered((d) => Promise.resolve(change(d, rel)));
    const started = Date.now();
    const r = await runCli(['verify', dir, '--no-rebuild', '--key', pub], QUICK);
    expectRefused(
      r,
      new RegExp(`${rel.replace(/\./g, '\\.')} is ${kind}: a release folder holds regular files only`),
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it.each([
    [
      'a FIFO',
      async (): Promise<string> => {
        const p = join(tmp, `key-fifo-${Date.now()}`);
        mkfifo(p);
        return p;
      },
      /--key \S+ is a named pipe, expected a key file/,
    ],
    [
      '/dev/zero',
      async (): Promise<string> => '/dev/zero',
      /--key \/dev\/zero is a device, expected a key file/,
    ],
    ['a folder', async (): Promise<string> => tmp, /--key \S+ is a folder, expected a key file/],
  ] as const)(
    '--key %s: one line, exit 2, at once; no temporary key folder left',
    async (_what, key, line) => {
      const before = (await readdir(tmpdir())).filter((n) => n.startsWith('reprorom-ssh-'));
      const r = await runCli(['verify', signed, '--no-rebuild', '--key', await key()], QUICK);
      expectOneLine(r, 2, line);
      const after = (await readdir(tmpdir())).filter((n) => n.startsWith('reprorom-ssh-'));
      expect(after.filter((n) => !before.includes(n))).toEqual([]);
    },
  );

  it.each([
    ['a folder', async (): Promise<string> => tmp, /--rom \S+ is a folder, expected a ROM file/],
    [
      'a FIFO',
      async (): Promise<string> => {
        const p = join(tmp, `rom-fifo-${Date.now()}`);
        mkfifo(p);
        return p;
      },
      /--rom \S+ is a named pipe, expected a ROM file/,
    ],
    [
      '/dev/zero',
      async (): Promise<string> => '/dev/zero',
      /--rom \/dev\/zero is a device, expected a ROM file/,
    ],
  ] as const)('--no-rebuild --rom %s: one line, exit 2, at once', async (_what, romPath, line) => {
    const r = await runCli(['verify', signed, '--no-rebuild', '--key', pub, '--rom', await romPath()], QUICK);
    expectOneLine(r, 2, line);
  });

  it.each([
    [
      'file://evil.example/etc/passwd',
      /release file:\/\/evil\.example\/etc\/passwd names the host evil\.example/,
    ],
    ['file:///tmp/a%2fb', /release file:\/\/\/tmp\/a%2fb encodes a "\/"/],
  ])('verify %s: one line, exit 2 (was an internal error)', async (url, line) => {
    expectOneLine(await runCli(['verify', url, '--no-rebuild', '--key', pub], QUICK), 2, line);
  });

  it('a release given as a FIFO: one line, exit 2, at once', async () => {
    const p = join(tmp, 'release-fifo');
    mkfifo(p);
    expectOneLine(
      await runCli(['verify', p, '--no-rebuild', '--key', pub], QUICK),
      2,
      /is a named pipe, expected a release folder/,
    );
  });

  it('verify hashes.txt --no-rebuild --rom R without a key: the ROM matches the hashes, not "the signed hashes"', async () => {
    const hashes = join(tmp, 'plain-hashes.txt');
    await writeFile(hashes, `${sha256Bytes(ROM)}  bios.rom\n`);
    const r = await runCli(['verify', hashes, '--no-rebuild', '--rom', join(signed, rom())], QUICK);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe(
      `VERIFIED (no signature checked): the ROM matches the hashes in ${hashes} (nothing was rebuilt)`,
    );
    expect(r.stdout).not.toMatch(/the signed/);
  });

  it('the untouched release still verifies with --no-rebuild', async () => {
    const r = await runCli(['verify', signed, '--no-rebuild', '--key', pub], QUICK);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(existsSync(join(signed, rom()))).toBe(true);
  });
});
