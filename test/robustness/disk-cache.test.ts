/**
 * Disk and cache faults: a full state folder, damaged image cache entries, a
 * truncated .deb, a truncated source tarball, a store path deleted from nix.
 * Each is detected, reported with what to do (or healed silently when the
 * pinned hash allows it), and the next run works.
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { board, containersOf, expectNoStack, leftovers, synthWorkspace, tag } from './support.js';

const engine = await probeEngine();
const nix = await probeNix();
const userCache = process.env['REPROROM_CACHE'] ?? join(homedir(), '.cache/reprorom');

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('robustness: disk and cache faults', () => {
  const mounts: string[] = [];
  const temps: string[] = [];
  beforeAll(() => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
  });
  afterAll(async () => {
    for (const m of mounts) await execa('umount', [m], { reject: false });
    await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('state folder on a full 3 MB file system: one line saying what to do, nothing half-written, a re-run after freeing space works', async () => {
    const ws = await copyWorkspace('rr-full-');
    temps.push(ws);
    const name = `${tag}-big`;
    await board(ws, name, "commands: ['head -c 8000000 /dev/zero > big.bin']\nartifacts: [big.bin]\n");
    const state = join(ws, '.reprorom');
    await mkdir(state, { recursive: true });
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', state]);
    mounts.push(state);
    const r = await runCli(['build', name, '-w', ws]);
    expect([3, 4], r.stderr).toContain(r.exitCode);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('reprorom:'));
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/no space left on the device/i);
    expect(r.stderr).toMatch(/→ free some space/);
    expectNoStack(r.stderr);
    expect(await containersOf(name)).toEqual([]);
    const written = (await readdir(state, { recursive: true })).map(String);
    expect(written.filter((p) => /\.tmp|-list-|manifest\.json|hashes\.txt|build\.lock/.test(p))).toEqual([]);
    await execa('umount', [state]);
    mounts.pop();
    const again = await runCli(['build', name, '-w', ws]);
    expect(again.exitCode, again.stderr).toBe(0);
  });

  describe('a damaged image cache entry is detected and rebuilt with the same image ID', () => {
    let ws = '';
    let cache = '';
    let first = { id: '' };
    const build = async () => {
      const r = await runCli(['image', 'build', 'firmware', '--no-load', '--json', '-w', ws], {
        env: { REPROROM_CACHE: cache },
      });
      expect(r.exitCode, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { id: string; cached: boolean };
    };
    beforeAll(async () => {
      ws = await copyWorkspace('rr-cache-');
      cache = await mkdtemp(join(tmpdir(), 'rr-cache-'));
      temps.push(ws, cache);
      first = await build();
    });

    it.each([
      [
        'a layer blob truncated',
        async (entry: string) => {
          const dir = join(entry, 'oci/blobs/sha256');
          const blobs = await Promise.all(
            (await readdir(dir)).map(async (f) => ({ f, size: (await stat(join(dir, f))).size })),
          );
          const largest = blobs.sort((a, b) => b.size - a.size)[0]!;
          await truncate(join(dir, largest.f), 1000);
        },
      ],
      [
        'one byte of the config blob flipped',
        async (entry: string, id: string) => {
          const blob = join(entry, 'oci/blobs/sha256', id.slice('sha256:'.length));
          const bytes = await readFile(blob);
          bytes[10] = (bytes[10] ?? 0) ^ 0x01;
          await writeFile(blob, bytes);
        },
      ],
    ])('%s', async (_what, damage) => {
      const key = (await readdir(join(cache, 'images')))[0]!;
      await damage(join(cache, 'images', key), first.id);
      const healed = await build();
      expect(healed).toMatchObject({ id: first.id, cached: false });
      expect(await build()).toMatchObject({ id: first.id, cached: true });
      expect(await leftovers(cache)).toEqual([]);
    });
  });

  it('a truncated .deb in the offline cache: pin fetch names both hashes and fetches it again', async () => {
    const ws = await copyWorkspace('rr-deb-');
    const cache = await mkdtemp(join(tmpdir(), 'rr-deb-cache-'));
    temps.push(ws, cache);
    await cp(join(userCache, 'debs'), join(cache, 'debs'), { recursive: true });
    const debs = (await readdir(join(cache, 'debs'))).filter((f) => f.endsWith('.deb')).sort();
    // A small one, so fetching it again is quick.
    const sizes = await Promise.all(
      debs.map(async (f) => ({ f, size: (await stat(join(cache, 'debs', f))).size })),
    );
    const victim = sizes.sort((a, b) => a.size - b.size)[0]!.f;
    const good = createHash('sha256')
      .update(await readFile(join(cache, 'debs', victim)))
      .digest('hex');
    await truncate(join(cache, 'debs', victim), 100);
    const bad = createHash('sha256')
      .update(await readFile(join(cache, 'debs', victim)))
      .digest('hex');
    const r = await runCli(['pin', 'fetch', 'offline', '--json', '-w', ws], {
      env: { REPROROM_CACHE: cache },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`has sha256 ${bad}, expected ${good}; deleted, fetching again`));
    const result = JSON.parse(r.stdout) as { healed: Array<{ expected: string; actual: string }> };
    expect(result.healed).toEqual([expect.objectContaining({ expected: good, actual: bad })]);
    const now = createHash('sha256')
      .update(await readFile(join(cache, 'debs', victim)))
      .digest('hex');
    expect(now).toBe(good);
    expect(await leftovers(cache)).toEqual([]);
  });

  it('a truncated source tarball: sha256 mismatch naming both hashes (exit 2); a truncated cached copy is fetched again', async () => {
    const ws = await copyWorkspace('rr-tarball-');
    const cache = await mkdtemp(join(tmpdir(), 'rr-tarball-cache-'));
    temps.push(ws, cache);
    const srcDir = join(ws, 'upstream', 'proj-1.0');
    await mkdir(srcDir, { recursive: true });
    await writeFile(join(srcDir, 'data.txt'), 'firmware source\n'.repeat(4000));
    const tarball = join(ws, 'upstream', 'proj-1.0.tar');
    await execa('tar', ['-cf', tarball, '-C', join(ws, 'upstream'), 'proj-1.0']);
    const pristine = await readFile(tarball);
    const good = createHash('sha256').update(pristine).digest('hex');
    const name = `${tag}-tarball`;
    await writeFile(
      join(ws, 'boards', `${name}.yaml`),
      `image: firmware\nsource: { type: tarball, url: "file://${tarball}", sha256: ${good} }\ncommands: [cp data.txt out.bin]\nartifacts: [out.bin]\n`,
    );
    const env = { REPROROM_CACHE: cache };
    // The mirror serves a truncated file.
    await truncate(tarball, 5000);
    const bad = createHash('sha256')
      .update(await readFile(tarball))
      .digest('hex');
    const r = await runCli(['build', name, '-w', ws], { env });
    expect(r.exitCode, r.stderr).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('reprorom:'));
    expect(lines).toEqual([`reprorom: sha256 mismatch for file://${tarball}: expected ${good}, got ${bad}`]);
    expectNoStack(r.stderr);
    expect(await leftovers(cache)).toEqual([]);
    expect(await containersOf(name)).toEqual([]);
    // The mirror is repaired: the same command works, nothing to clean by hand.
    await writeFile(tarball, pristine);
    const ok = await runCli(['build', name, '-w', ws], { env });
    expect(ok.exitCode, ok.stderr).toBe(0);
    // The cached copy is cut short: detected by its hash and fetched again.
    const cached = join(cache, 'tarballs', good);
    expect((await stat(cached)).size).toBe(pristine.length);
    await truncate(cached, 5000);
    const healed = await runCli(['build', name, '-w', ws], { env });
    expect(healed.exitCode, healed.stderr).toBe(0);
    expect((await stat(cached)).size).toBe(pristine.length);
  });

  it('a store path deleted from nix is built again by the next `image build --rebuild`, same image ID', async () => {
    const { ws } = await synthWorkspace(`${tag}-gc-${Date.now()}`, { bytes: 4096 });
    const cache = await mkdtemp(join(tmpdir(), 'rr-gc-cache-'));
    temps.push(ws, cache);
    const env = { REPROROM_CACHE: cache };
    const first = await runCli(['image', 'build', 'synth', '--no-load', '--json', '-w', ws], { env });
    expect(first.exitCode, first.stderr).toBe(0);
    const id = JSON.parse(first.stdout).id as string;
    // The package only this test's flake builds (its content carries a unique salt).
    const drvOut = (
      await execa('nix', ['eval', '--raw', `path:${join(ws, 'pins/synth')}#packages.x86_64-linux.p0.outPath`])
    ).stdout.trim();
    expect((await stat(drvOut)).isDirectory()).toBe(true);
    // With it, whatever refers to it (this test's own devShell output): all unique to this test.
    const referrers = (await execa('nix-store', ['--query', '--referrers-closure', drvOut])).stdout
      .split('\n')
      .filter(Boolean);
    expect(
      referrers.every((p) => /-(p0|reprorom-synth-env[^/]*)$/.test(p)),
      referrers.join(' '),
    ).toBe(true);
    await execa('nix-store', ['--delete', '--ignore-liveness', ...referrers]);
    await expect(stat(drvOut)).rejects.toThrow();
    const again = await runCli(['image', 'build', 'synth', '--rebuild', '--no-load', '--json', '-w', ws], {
      env,
    });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ id, cached: false });
    expect((await stat(drvOut)).isDirectory()).toBe(true);
  });
});
