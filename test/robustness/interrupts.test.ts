/**
 * SIGINT and SIGTERM at each stage a user can hit: nix evaluation, image
 * assembly, image load, container run, artifact copy-out, offline fetch. After
 * each: exit 130 and `interrupted by SIG…`, no container of the board, no new
 * dangling image, no half-written file in the state folder or the cache, and the
 * next run works without any manual clean-up.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import {
  board,
  containersOf,
  danglingImages,
  expectNoStack,
  interruptAt,
  leftovers,
  synthWorkspace,
  tag,
} from './support.js';

const engine = await probeEngine();
const nix = await probeNix();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function expectInterrupted(
  r: { exitCode: number | undefined; stderr: string; sent: boolean },
  signal: string,
) {
  expect(r.sent, r.stderr).toBe(true);
  expect(r.exitCode, r.stderr).toBe(130);
  expect(r.stderr).toMatch(new RegExp(`reprorom: interrupted by ${signal}`));
  expectNoStack(r.stderr);
}

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('robustness: interruptions', () => {
  let ws = '';
  let dangling = new Set<string>();
  const temps: string[] = [];
  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    ws = await copyWorkspace('rr-intr-');
    temps.push(ws);
    dangling = await danglingImages();
  });
  afterAll(async () => {
    await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
  });

  /** The engine holds no new untagged image: an interrupted load left nothing behind. */
  const expectNoNewDangling = async () => {
    const now = await danglingImages();
    expect([...now].filter((id) => !dangling.has(id))).toEqual([]);
  };

  describe.each([
    ['nix evaluation', /evaluating the nix develop environment/],
    ['image assembly', /assembling \d+ store paths/],
  ] as const)('image build, %s', (_stage, marker) => {
    it.each(SIGNALS)('%s: exit 130, no half-written cache entry, the next build works', async (signal) => {
      const cache = await mkdtemp(join(tmpdir(), 'rr-intr-cache-'));
      temps.push(cache);
      const env = { REPROROM_CACHE: cache };
      const r = await interruptAt(
        ['image', 'build', 'firmware', '--rebuild', '--no-load', '-w', ws],
        marker,
        signal,
        env,
      );
      expectInterrupted(r, signal);
      expect(await leftovers(cache)).toEqual([]);
      // Nothing half-built is mistaken for a cache entry.
      expect(await readdir(join(cache, 'images')).catch(() => [])).toEqual([]);
      const again = await runCli(['image', 'build', 'firmware', '--no-load', '--json', '-w', ws], { env });
      expect(again.exitCode, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout).cached).toBe(false);
    });
  });

  describe('image load', () => {
    // An image of our own (a unique synthetic flake), so removing it cannot disturb other work.
    let synth = '';
    let cache = '';
    let id = '';
    beforeAll(async () => {
      synth = (await synthWorkspace(`${tag}-load-${Date.now()}`, { bytes: 160 * 1024 * 1024, files: 8 })).ws;
      cache = await mkdtemp(join(tmpdir(), 'rr-intr-load-cache-'));
      temps.push(synth, cache);
      const built = await runCli(['image', 'build', 'synth', '--no-load', '--json', '-w', synth], {
        env: { REPROROM_CACHE: cache },
      });
      expect(built.exitCode, built.stderr).toBe(0);
      id = JSON.parse(built.stdout).id as string;
    });
    afterAll(async () => {
      if (id) await execa('docker', ['rmi', '-f', id], { reject: false });
    });

    it.each(SIGNALS)(
      '%s: exit 130, no half-loaded or dangling image, the next build loads the computed ID',
      async (signal) => {
        await execa('docker', ['rmi', '-f', id], { reject: false });
        const env = { REPROROM_CACHE: cache };
        const r = await interruptAt(
          ['image', 'build', 'synth', '-w', synth],
          /loading into the Docker engine/,
          signal,
          env,
        );
        expectInterrupted(r, signal);
        await expectNoNewDangling();
        // Either absent or whole: an image under that ID is the one reprorom computed.
        const inspect = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', id], {
          reject: false,
        });
        if (inspect.exitCode === 0) expect(inspect.stdout.trim()).toBe(id);
        const again = await runCli(['image', 'build', 'synth', '--json', '-w', synth], { env });
        expect(again.exitCode, again.stderr).toBe(0);
        expect(JSON.parse(again.stdout).id).toBe(id);
        expect((await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', id])).stdout.trim()).toBe(
          id,
        );
      },
    );
  });

  it.each(SIGNALS)(
    '%s during a container run: exit 130, container removed, no run folder, no lock; the next run works',
    async (signal) => {
      const name = `${tag}-nap-${signal.toLowerCase()}`;
      await board(ws, name, 'commands: [sleep 60, echo ok > out.bin]\nartifacts: [out.bin]\n');
      const r = await interruptAt(['build', name, '-w', ws], /run 1\/1 started/, signal);
      expectInterrupted(r, signal);
      expect(await containersOf(name)).toEqual([]);
      expect(await leftovers(join(ws, '.reprorom'))).toEqual([]);
      expect(existsSync(join(ws, '.reprorom/build.lock'))).toBe(false);
      expect(existsSync(join(ws, '.reprorom/work')) ? await readdir(join(ws, '.reprorom/work')) : []).toEqual(
        [],
      );
      await expectNoNewDangling();
      await board(ws, name, 'commands: [echo ok > out.bin]\nartifacts: [out.bin]\n');
      const again = await runCli(['build', name, '-w', ws]);
      expect(again.exitCode, again.stderr).toBe(0);
    },
  );

  it('SIGTERM while the runs are compared (diffoscope running, before the culprit search): exit 130 at once, diffoscope stopped', async () => {
    const name = `${tag}-comparing`;
    // 64 MiB that differ in their last line (the host name): diffoscope takes a while over them.
    await board(
      ws,
      name,
      'commands: ["head -c 67108864 /dev/zero > out.bin", "uname -n >> out.bin"]\nartifacts: [out.bin]\n',
    );
    const diffoscopeRunning = async () =>
      (await execa('pgrep', ['-f', `diffoscope.*${ws}`], { reject: false })).exitCode === 0;
    const began = Date.now();
    const r = await interruptAt(['build', name, '--runs', '2', '-w', ws], diffoscopeRunning, 'SIGTERM');
    expectInterrupted(r, 'SIGTERM');
    expect(r.stderr).not.toMatch(/mismatch: rebuilding/);
    expect(await diffoscopeRunning()).toBe(false);
    // Well inside the clean-up deadline (30 s): the signal stopped diffoscope, nothing waited for it.
    expect(Date.now() - began).toBeLessThan(60_000);
    expect(await containersOf(name)).toEqual([]);
    expect(existsSync(join(ws, '.reprorom/build.lock'))).toBe(false);
  });

  it('SIGINT while release compares its runs (diffoscope running): exit 130 with the message build gives, no container, no OUT folder', async () => {
    const name = `${tag}-rel-comparing`;
    // The same board shape as the build case above: 64 MiB that differ in their last line.
    await board(
      ws,
      name,
      'commands: ["head -c 67108864 /dev/zero > out.bin", "uname -n >> out.bin"]\nartifacts: [out.bin]\n',
    );
    const diffoscopeRunning = async () =>
      (await execa('pgrep', ['-f', `diffoscope.*${ws}`], { reject: false })).exitCode === 0;
    /** The `reprorom:` line and its hint: what a person is told at the end. */
    const ending = (stderr: string) => stderr.trimEnd().split('\n').slice(-2);
    const parent = await mkdtemp(join(tmpdir(), 'rr-intr-rel-'));
    temps.push(parent);
    const out = join(parent, 'out');
    let sentAt = 0;
    const r = await interruptAt(
      ['release', name, '--runs', '2', '--allow-dirty', '--out', out, '-w', ws],
      async () => {
        if (!(await diffoscopeRunning())) return false;
        sentAt = Date.now();
        return true;
      },
      'SIGINT',
    );
    expectInterrupted(r, 'SIGINT');
    // The signal stopped diffoscope (which takes minutes over these files): nothing waited for it.
    expect(Date.now() - sentAt).toBeLessThan(20_000);
    expect(await diffoscopeRunning()).toBe(false);
    expect(await containersOf(name)).toEqual([]);
    expect(existsSync(join(ws, '.reprorom/build.lock'))).toBe(false);
    // No OUT folder, and no temporary one beside it (release writes nothing before the verdict).
    expect(await readdir(parent)).toEqual([]);
    // build, signalled at the same moment of the same board, ends with the same two lines.
    const b = await interruptAt(['build', name, '--runs', '2', '-w', ws], diffoscopeRunning, 'SIGINT');
    expectInterrupted(b, 'SIGINT');
    expect(ending(r.stderr)).toEqual(ending(b.stderr));
    expect(ending(r.stderr)[0]).toBe('reprorom: interrupted by SIGINT; partial results were discarded');
  });

  it('SIGINT during the culprit search, while a source is streamed in: exit 130, no stack trace, no container', async () => {
    const name = `${tag}-culprit`;
    // The host name reaches the artifact (a mismatch, so a culprit search follows); a 64 MiB
    // source keeps each run's copy-in going long enough for the signal to land inside it.
    await board(ws, name, 'commands: ["uname -n > out.bin"]\nartifacts: [out.bin]\n');
    await writeFile(join(ws, 'src', name, 'big.bin'), Buffer.alloc(64 << 20, 7));
    const r = await interruptAt(
      ['build', name, '--runs', '2', '-w', ws],
      /mismatch: rebuilding[\s\S]*started/,
      'SIGINT',
    );
    expectInterrupted(r, 'SIGINT');
    expect(await containersOf(name)).toEqual([]);
    expect(existsSync(join(ws, '.reprorom/build.lock'))).toBe(false);
  });

  it.each([
    ['a second SIGINT while the first is being handled', 'SIGINT', 'SIGINT'],
    ['SIGHUP (the terminal closed)', 'SIGHUP', undefined],
  ] as const)(
    '%s during a container run: exit 130, container removed, no run folder, work folder or lock',
    async (_what, signal, again) => {
      const name = `${tag}-hup-${signal.toLowerCase()}${again ? '-twice' : ''}`;
      await board(ws, name, 'commands: [sleep 60, echo ok > out.bin]\nartifacts: [out.bin]\n');
      const runsBefore = await readdir(join(ws, '.reprorom/runs')).catch(() => [] as string[]);
      const r = await interruptAt(['build', name, '-w', ws], /run 1\/1 started/, signal, {}, again);
      expectInterrupted(r, signal);
      expect(await containersOf(name)).toEqual([]);
      expect(await leftovers(join(ws, '.reprorom'))).toEqual([]);
      expect(existsSync(join(ws, '.reprorom/build.lock'))).toBe(false);
      expect(existsSync(join(ws, '.reprorom/work')) ? await readdir(join(ws, '.reprorom/work')) : []).toEqual(
        [],
      );
      expect(await readdir(join(ws, '.reprorom/runs')).catch(() => [] as string[])).toEqual(runsBefore);
    },
  );

  it('SIGINT while a 300 MB artifact is copied out: exit 130, no run folder, no partial artifact; the next run works', async () => {
    const name = `${tag}-big`;
    await board(ws, name, "commands: ['head -c 300M /dev/zero > out.bin']\nartifacts: [out.bin]\n");
    const runsBefore = await readdir(join(ws, '.reprorom/runs')).catch(() => [] as string[]);
    // Signal once part of the artifact has reached the run's temporary folder on the host.
    const copying = async () => {
      for (const run of await readdir(join(ws, '.reprorom/runs')).catch(() => [] as string[])) {
        const boardDir = join(ws, '.reprorom/runs', run, name);
        for (const tmp of await readdir(boardDir).catch(() => [] as string[])) {
          const partial = join(boardDir, tmp, 'artifacts', 'out.bin');
          if (tmp.includes('.tmp-') && ((await stat(partial).catch(() => undefined))?.size ?? 0) > 0)
            return true;
        }
      }
      return false;
    };
    const r = await interruptAt(['build', name, '-w', ws], copying, 'SIGINT');
    expectInterrupted(r, 'SIGINT');
    expect(await containersOf(name)).toEqual([]);
    expect(await leftovers(join(ws, '.reprorom'))).toEqual([]);
    const runsAfter = await readdir(join(ws, '.reprorom/runs')).catch(() => [] as string[]);
    expect(runsAfter.filter((d) => !runsBefore.includes(d))).toEqual([]);
    expect(existsSync(join(ws, '.reprorom/build.lock'))).toBe(false);
    const again = await runCli(['build', name, '--json', '-w', ws]);
    expect(again.exitCode, again.stderr).toBe(0);
    const dir = JSON.parse(again.stdout).boards[0].runs[0].dir as string;
    const check = await execa('sha256sum', ['-c', 'hashes.txt'], { cwd: dir });
    expect(check.stdout).toMatch(/out\.bin: OK/);
    await rm(dir, { recursive: true, force: true });
  });

  it('SIGINT during `pin fetch offline` downloads: exit 130, no partial .deb in the cache; the next fetch completes', async () => {
    // A fresh cache holding every verified deb but the three largest, so the fetch must download.
    const real = join(process.env['REPROROM_CACHE'] ?? join(homedir(), '.cache/reprorom'), 'debs');
    const cache = await mkdtemp(join(tmpdir(), 'rr-intr-fetch-'));
    temps.push(cache);
    await mkdir(join(cache, 'debs'));
    const debs = (await readdir(real, { withFileTypes: true })).filter(
      (d) => d.isFile() && d.name.endsWith('.deb'),
    );
    const sizes = await Promise.all(
      debs.map(async (d) => ({
        name: d.name,
        size: (await import('node:fs')).statSync(join(real, d.name)).size,
      })),
    );
    sizes.sort((a, b) => b.size - a.size);
    const missing = sizes.slice(0, 3).map((s) => s.name);
    for (const s of sizes.slice(3)) await cp(join(real, s.name), join(cache, 'debs', s.name));
    const env = { REPROROM_CACHE: cache };
    const r = await interruptAt(
      ['pin', 'fetch', 'offline', '-w', ws],
      /downloading \d+ of \d+ Debian packages/,
      'SIGINT',
      env,
    );
    expectInterrupted(r, 'SIGINT');
    expect(await leftovers(cache)).toEqual([]);
    const present = await readdir(join(cache, 'debs'));
    // A deb is in the cache whole (verified, renamed into place) or not at all.
    for (const m of missing) {
      if (present.includes(m)) {
        const a = await execa('cmp', [join(real, m), join(cache, 'debs', m)], { reject: false });
        expect(a.exitCode, `${m} is partial`).toBe(0);
      }
    }
    const again = await runCli(['pin', 'fetch', 'offline', '--json', '-w', ws], { env });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).healed).toEqual([]);
    for (const m of missing) expect(await readdir(join(cache, 'debs'))).toContain(m);
  });
});
