import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

const nix = await probeNix();

describe.skipIf(skipUnlessReal(nix))('pins (real nix)', () => {
  beforeAll(() => {
    if (inCi) requireReal(nix);
  });

  it('verify accepts the pinned content and refuses tampered content, naming both hashes; lock re-pins it', async () => {
    const ws = await copyWorkspace('rr-pins-');
    const ok = await runCli(['pin', 'verify', 'offline', '-w', ws, '--json']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, pins: [{ pin: 'offline', ok: true }] });

    const pinned = (await readFile(join(ws, 'pins/offline.yaml'), 'utf8')).match(/narHash: (\S+)/)![1]!;
    await appendFile(join(ws, 'pins/offline/flake.nix'), '\n# tampered\n');
    const bad = await runCli(['pin', 'verify', 'offline', '-w', ws]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(
      new RegExp(
        `pins/offline\\.yaml:\\d+:\\d+: pin "offline" content has narHash sha256-\\S+, but the pin says ${pinned.replace(/[+/]/g, '\\$&')}`,
      ),
    );
    expect(bad.stderr).not.toMatch(/\n\s+at /);

    // A build refuses the tampered pin too: nothing unpinned reaches an image.
    const build = await runCli(['image', 'build', 'firmware', '-w', ws, '--rebuild', '--no-load']);
    expect(build.exitCode).toBe(2);
    expect(build.stderr).toMatch(/content has narHash/);

    const lock = await runCli(['pin', 'lock', 'offline', '-w', ws]);
    expect(lock.exitCode, lock.stderr).toBe(0);
    const relocked = (await readFile(join(ws, 'pins/offline.yaml'), 'utf8')).match(/narHash: (\S+)/)![1]!;
    expect(relocked).not.toBe(pinned);
    expect((await readFile(join(ws, 'pins/offline.yaml'), 'utf8')).startsWith('# yaml-language-server')).toBe(
      true,
    );
    expect((await runCli(['pin', 'verify', 'offline', '-w', ws])).exitCode).toBe(0);
  });

  it('a pin without narHash is refused with the command that fixes it', async () => {
    const ws = await copyWorkspace('rr-pins-unpinned-');
    const text = await readFile(join(ws, 'pins/offline.yaml'), 'utf8');
    await writeFile(join(ws, 'pins/offline.yaml'), text.replace(/^narHash:.*\n/m, ''));
    const r = await runCli(['image', 'build', 'firmware', '-w', ws, '--no-load']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/pins\/offline\.yaml:\d+:\d+: missing key "narHash".*reprorom pin lock/);
  });

  it('locking a branch of a remote flake without network is an environment error (exit 3)', async () => {
    const ws = await copyWorkspace('rr-pins-remote-');
    const r = await runCli([
      'pin',
      'lock',
      'nixpkgs',
      '-w',
      ws,
      '--ref',
      'github:NixOS/nixpkgs/nixos-unstable',
    ]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/cannot fetch github:NixOS\/nixpkgs\/nixos-unstable/);
    expect(await readFile(join(ws, 'pins/nixpkgs.yaml'), 'utf8')).toContain(
      'bfb7a882678e518398ce9a31a881538679f6f092',
    );
  });
});
