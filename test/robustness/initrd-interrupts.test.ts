/**
 * Issue 27 item 5: a package-list initrd interrupted while its tree is unpacked (by nix, at
 * image build time) or while it is packed (by the board's pack.sh, in its container) leaves
 * nothing half-made: no partial tree in the nix store or the image cache, no partial cpio in
 * the run folder or the user's source; the next build starts clean and gives the same bytes.
 * Cost: the unpack case builds a one-tree image of its own (seconds); the pack case builds
 * python-initrd-x86_64 twice with the initrd image (cached when the suite has built it).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { containersOf, expectNoStack, interruptAt, leftovers, tag } from './support.js';

const engine = await probeEngine();
const nix = await probeNix();
const LOCK = join('pins', 'offline', 'debs.lock.json');

/** The store path an offline flake output would have, evaluated without building it. */
async function outPathOf(ws: string, attr: string): Promise<string> {
  const r = await execa('nix', [
    'eval',
    '--raw',
    `path:${join(ws, 'pins/offline')}#packages.x86_64-linux.${attr}.outPath`,
  ]);
  return r.stdout.trim();
}

async function isValid(storePath: string): Promise<boolean> {
  return (await execa('nix-store', ['--check-validity', storePath], { reject: false })).exitCode === 0;
}

async function narHash(path: string): Promise<string> {
  return (await execa('nix', ['hash', 'path', '--type', 'sha256', '--sri', path])).stdout.trim();
}

async function sha256(file: string): Promise<string> {
  return (await execa('sha256sum', [file])).stdout.split(' ')[0] as string;
}

/** Every file under `dir` whose name says it is (part of) an initrd being made. */
async function initrdFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true }))
    .map(String)
    .filter((p) => /initrd\.(tmp|cpio|manifest)/.test(p));
}

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))(
  'robustness: package-list initrd interrupted',
  () => {
    const temps: string[] = [];
    beforeAll(() => {
      if (inCi) {
        requireReal(engine);
        requireReal(nix);
      }
    });
    afterAll(async () => {
      await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
    });

    it('SIGINT while an initrd tree is unpacked: exit 130, no partial tree in the nix store or the image cache; the next build unpacks the same bytes', async () => {
      const ws = await copyWorkspace('rr-initrd-unpack-');
      const cache = await mkdtemp(join(tmpdir(), 'rr-initrd-unpack-cache-'));
      temps.push(ws, cache);
      // A set of this run's own (the Python set's packages under a new name): its tree is a new
      // store path, so nix must unpack it now, whatever the store already holds.
      const set = `initrd-${tag}-unpack-${Date.now().toString(36)}`;
      const lock = JSON.parse(await readFile(join(ws, LOCK), 'utf8'));
      lock.sets[set] = { ...lock.sets['initrd-python-amd64'] };
      await writeFile(join(ws, LOCK), `${JSON.stringify(lock, null, 2)}\n`);
      const image = `${tag}-unpack`;
      await writeFile(join(ws, 'images', `${image}.yaml`), `pin: offline\npackages: [bash-static, ${set}]\n`);
      const locked = await runCli(['pin', 'lock', 'offline', '-w', ws]);
      expect(locked.exitCode, locked.stderr).toBe(0);
      const tree = await outPathOf(ws, set);
      expect(existsSync(tree)).toBe(false);

      const env = { REPROROM_CACHE: cache };
      // Signal once nix is writing the tree (the packages are being unpacked into root/).
      const r = await interruptAt(
        ['image', 'build', image, '--no-load', '-w', ws],
        async () => existsSync(join(tree, 'root', 'usr')),
        'SIGINT',
        env,
      );
      expect(r.sent, r.stderr).toBe(true);
      expect(r.exitCode, r.stderr).toBe(130);
      expect(r.stderr).toMatch(/reprorom: interrupted by SIGINT/);
      expectNoStack(r.stderr);
      // Never a valid half-tree in the store: gone, or invalid (nix deletes it before a build).
      // Waited for longer than the whole unpack takes: nix was stopped too, not left to finish.
      await new Promise((done) => setTimeout(done, 8000));
      expect(await isValid(tree)).toBe(false);
      expect(await leftovers(cache)).toEqual([]);
      expect(await readdir(join(cache, 'images')).catch(() => [])).toEqual([]);

      const again = await runCli(['image', 'build', image, '--no-load', '--json', '-w', ws], { env });
      expect(again.exitCode, again.stderr).toBe(0);
      expect(await isValid(tree)).toBe(true);
      // The same bytes as the Python set's own tree, unpacked without an interruption.
      const reference = await outPathOf(ws, 'initrd-python-amd64');
      await execa('nix', [
        'build',
        '--no-link',
        `path:${join(ws, 'pins/offline')}#packages.x86_64-linux.initrd-python-amd64`,
      ]);
      expect(await narHash(join(tree, 'root'))).toBe(await narHash(join(reference, 'root')));
      const body = async (p: string) => (await readFile(join(p, 'manifest'), 'utf8')).split('\n').slice(1);
      expect(await body(tree)).toEqual(await body(reference));
    }, 600_000);

    it('SIGINT while an initrd is packed: exit 130, no partial cpio in the run folder or the source, no container; the next build gives the same bytes', async () => {
      const ws = await copyWorkspace('rr-initrd-pack-');
      temps.push(ws);
      const name = `${tag}-pack`;
      await writeFile(
        join(ws, 'boards', `${name}.yaml`),
        await readFile(join(ws, 'boards', 'python-initrd-x86_64.yaml'), 'utf8'),
      );
      const first = await runCli(['build', name, '--json', '-w', ws], { timeoutMs: 900_000 });
      expect(first.exitCode, first.stderr).toBe(0);
      const firstDir = JSON.parse(first.stdout).boards[0].runs[0].dir as string;
      const want = await sha256(join(firstDir, 'artifacts', 'initrd.cpio.gz'));
      const runsBefore = await readdir(join(ws, '.reprorom/runs'));

      // Signal while pack.sh runs cpio or gzip in the board's container.
      const packing = async () => {
        for (const id of await containersOf(name)) {
          const top = await execa('docker', ['top', id], { reject: false });
          if (/\b(cpio|gzip)\b/.test(top.stdout)) return true;
        }
        return false;
      };
      const r = await interruptAt(['build', name, '-w', ws], packing, 'SIGINT');
      expect(r.sent, r.stderr).toBe(true);
      expect(r.exitCode, r.stderr).toBe(130);
      expect(r.stderr).toMatch(/reprorom: interrupted by SIGINT/);
      expectNoStack(r.stderr);
      expect(await containersOf(name)).toEqual([]);
      expect(await leftovers(join(ws, '.reprorom'))).toEqual([]);
      expect(existsSync(join(ws, '.reprorom/build.lock'))).toBe(false);
      const runsAfter = await readdir(join(ws, '.reprorom/runs'));
      expect(runsAfter.filter((d) => !runsBefore.includes(d))).toEqual([]);
      // No half-made initrd anywhere but the first run's finished one; the source is untouched.
      const made = await initrdFiles(join(ws, '.reprorom'));
      expect(
        made.every((p) => join(ws, '.reprorom', p).startsWith(firstDir)),
        made.join('\n'),
      ).toBe(true);
      expect(await initrdFiles(join(ws, 'initrds'))).toEqual([]);

      const again = await runCli(['build', name, '--json', '-w', ws], { timeoutMs: 900_000 });
      expect(again.exitCode, again.stderr).toBe(0);
      const dir = JSON.parse(again.stdout).boards[0].runs[0].dir as string;
      expect(await sha256(join(dir, 'artifacts', 'initrd.cpio.gz'))).toBe(want);
    }, 1_200_000);
  },
);
