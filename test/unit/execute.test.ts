/**
 * The executor drives a plan against an Engine. Here the engine is a fake that speaks the
 * container side of the transfer protocol, so ordering, failures, interrupts, parallelism
 * and variations are checked without Docker (the real engine is covered by the integration suite).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImagePreparer } from '../../src/imagebuild/prepare.js';
import { type BuildPlan, planBuild } from '../../src/plan/plan.js';
import { executePlan } from '../../src/runs/execute.js';
import { EngineUnavailableError, UsageError } from '../../src/util/errors.js';
import { loadValidWorkspace } from '../../src/workspace/load.js';
import { fakeEngine } from '../helpers/fakeEngine.js';
import { copyWorkspace } from '../helpers/workspace.js';

let root: string;

const board = (src: string) =>
  [
    'image: firmware',
    'source:',
    '  type: local',
    `  path: ${src}`,
    'commands:',
    '  - make',
    'artifacts:',
    '  - out/rom.bin',
    'sourceDateEpoch: 1700000000',
    '',
  ].join('\n');

beforeEach(async () => {
  root = await copyWorkspace('rr-exec-');
  await rm(join(root, 'boards'), { recursive: true });
  await mkdir(join(root, 'boards'));
  for (const name of ['alpha', 'beta']) {
    await mkdir(join(root, `src-${name}`), { recursive: true });
    await writeFile(join(root, `src-${name}`, 'main.c'), `int ${name};\n`);
    await writeFile(join(root, 'boards', `${name}.yaml`), board(`src-${name}`));
  }
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function plan(boards: string[], runs: number, jobs = 1): Promise<BuildPlan> {
  return planBuild(await loadValidWorkspace(root), { boards, runs, jobs, cores: 2 });
}

function countingPreparer(): ImagePreparer & { calls: string[] } {
  const calls: string[] = [];
  const prepare = async (image: { name: string }) => {
    calls.push(image.name);
    return { id: `sha256:${'ab'.repeat(32)}`, tag: `reprorom/${image.name}:abababababab` };
  };
  return Object.assign(prepare, { calls });
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('plan', () => {
  it('names the closest board when one is mistyped', async () => {
    const err = await plan(['alpah'], 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain('did you mean "alpha"?');
  });

  it('refuses --all together with board names, and builds a named board once', async () => {
    const ws = await loadValidWorkspace(root);
    expect(() => planBuild(ws, { boards: ['alpha'], all: true, runs: 1, jobs: 1, cores: 2 })).toThrow(
      /--all builds every board, but boards were named too/,
    );
    const p = planBuild(ws, { boards: ['alpha', 'alpha'], runs: 2, jobs: 1, cores: 2 });
    expect(p.boards.map((b) => b.name)).toEqual(['alpha']);
  });

  it('plans each image once, with its pins, and a different variation for every run', async () => {
    const p = await plan(['alpha', 'beta'], 3);
    expect(p.images.map((i) => i.name)).toEqual(['firmware']);
    expect(p.boards[0]?.image).toBe(p.boards[1]?.image);
    expect(p.images[0]?.pins.map((x) => x.name)).toEqual(['offline']);
    const runs = p.boards[0]?.runs ?? [];
    expect(runs.map((r) => r.index)).toEqual([1, 2, 3]);
    expect(runs[0]?.varied).toEqual([]);
    expect(runs[1]?.varied.length).toBeGreaterThan(3);
    expect(new Set(runs.map((r) => r.variation.hostname)).size).toBe(3);
  });
});

describe('executePlan with a fake engine', () => {
  it('prepares each image once, before any container, then runs boards in plan order', async () => {
    const prepare = countingPreparer();
    const p = await plan(['alpha', 'beta'], 2);
    const seen: string[] = [];
    const engineWithTrace = fakeEngine(async (b) => {
      seen.push(...b.sourceFiles.filter((f) => f.endsWith('.c')));
      return { exitCode: 0, files: { 'out/rom.bin': `rom of ${b.spec.labels?.['reprorom.board']}` } };
    });
    const result = await executePlan(p, { engine: engineWithTrace, prepareImage: prepare });
    expect(prepare.calls).toEqual(['firmware']);
    expect(engineWithTrace.calls.filter((c) => !c.startsWith('removed'))).toEqual([
      'ping',
      'removeOrphans',
      'run alpha#1',
      'run alpha#2',
      'run beta#1',
      'run beta#2',
    ]);
    // Every container was removed, and each got its board's own source.
    expect(engineWithTrace.calls.filter((c) => c.startsWith('removed'))).toHaveLength(4);
    expect(seen).toEqual(['src/main.c', 'src/main.c', 'src/main.c', 'src/main.c']);
    const manifest = JSON.parse(await readFile(join(result.runDir, 'alpha', '2', 'manifest.json'), 'utf8'));
    expect(manifest.artifacts).toEqual([
      { path: 'artifacts/out/rom.bin', sha256: sha256('rom of alpha'), size: 'rom of alpha'.length },
    ]);
    expect(manifest.image.id).toBe(`sha256:${'ab'.repeat(32)}`);
  });

  it("gives each run its planned variation, and records it in the run's manifest", async () => {
    const engine = fakeEngine(() => ({ exitCode: 0, files: { 'out/rom.bin': 'same' } }));
    const p = await plan(['alpha'], 3);
    const result = await executePlan(p, { engine, prepareImage: countingPreparer() });
    const planned = p.boards[0]?.runs ?? [];
    expect(engine.specs.map((s) => s.hostname)).toEqual(planned.map((r) => r.variation.hostname));
    expect(engine.specs.map((s) => s.user)).toEqual(
      planned.map((r) => `${r.variation.uid}:${r.variation.uid}`),
    );
    expect(engine.specs.map((s) => s.env?.['TZ'])).toEqual(planned.map((r) => r.variation.tz));
    expect(new Set(engine.specs.map((s) => s.env?.['TZ'])).size).toBe(3);
    // Hardened whatever the variation: no network.
    expect(engine.specs.every((s) => s.network === 'none')).toBe(true);
    for (const r of planned) {
      const m = JSON.parse(
        await readFile(join(result.runDir, 'alpha', String(r.index), 'manifest.json'), 'utf8'),
      );
      expect(m.variations.hostname).toBe(r.variation.hostname);
      expect(m.variations.umask).toBe(r.variation.umask);
    }
    expect(result.boards[0]?.runs.map((r) => r.variations)).toEqual(planned.map((r) => r.varied));
  });

  it('records a failed run, still runs the others, and leaves no folder for the failure', async () => {
    const engine = fakeEngine(({ spec }) =>
      spec.labels?.['reprorom.board'] === 'alpha' && spec.labels['reprorom.index'] === '2'
        ? { exitCode: 2, log: ['main.c:1: error: expected ;'] }
        : { exitCode: 0, files: { 'out/rom.bin': 'rom' } },
    );
    const result = await executePlan(await plan(['alpha', 'beta'], 2), {
      engine,
      prepareImage: countingPreparer(),
    });
    const [alpha, beta] = result.boards;
    expect(alpha?.runs.map((r) => r.ok)).toEqual([true, false]);
    expect(alpha?.runs[1]?.error).toMatch(/failed with exit code 2/);
    expect(beta?.runs.map((r) => r.ok)).toEqual([true, true]);
    expect(existsSync(join(result.runDir, 'alpha', '1', 'manifest.json'))).toBe(true);
    expect(existsSync(join(result.runDir, 'alpha', '2'))).toBe(false);
    expect(await readFile(join(result.runDir, 'alpha.log'), 'utf8')).toContain('main.c:1: error: expected ;');
    // The failure carries its cause: the run's own last lines, not its neighbours'.
    expect(alpha?.runs[1]?.logTail).toEqual(['main.c:1: error: expected ;']);
    expect(alpha?.runs[0]?.logTail).toBeUndefined();
  });

  it('a run that produces none of its artifacts fails by name', async () => {
    const engine = fakeEngine(() => ({ exitCode: 0, files: {} }));
    const result = await executePlan(await plan(['alpha'], 1), { engine, prepareImage: countingPreparer() });
    expect(result.boards[0]?.runs[0]?.error).toMatch(/produced none of its artifacts \(out\/rom\.bin\)/);
  });

  it('an interrupt stops every run, removes the run folder and leaves no container running', async () => {
    const engine = fakeEngine(() => ({ exitCode: 0, files: { 'out/rom.bin': 'rom' }, delayMs: 10_000 }));
    const controller = new AbortController();
    const p = await plan(['alpha', 'beta'], 2, 2);
    const pending = executePlan(p, { engine, signal: controller.signal, prepareImage: countingPreparer() });
    while (engine.running < 2) await new Promise((r) => setTimeout(r, 5));
    controller.abort(new Error('interrupted'));
    await expect(pending).rejects.toThrow('interrupted');
    expect(engine.running).toBe(0);
    const runs = join(root, '.reprorom', 'runs');
    expect(existsSync(runs) ? await readdir(runs) : []).toEqual([]);
    // Later runs never started.
    expect(engine.calls.filter((c) => c.startsWith('run '))).toHaveLength(2);
  });

  it('runs at most --jobs containers at once', async () => {
    const engine = fakeEngine(() => ({ exitCode: 0, files: { 'out/rom.bin': 'rom' }, delayMs: 50 }));
    await executePlan(await plan(['alpha', 'beta'], 3, 2), { engine, prepareImage: countingPreparer() });
    expect(engine.maxRunning).toBe(2);
    expect(engine.calls.filter((c) => c.startsWith('run '))).toHaveLength(6);
  });

  it('an engine that does not answer stops the build before any image or source work', async () => {
    const engine = fakeEngine(() => ({ exitCode: 0 }));
    engine.ping = async () => {
      throw new EngineUnavailableError('no engine at fake://engine');
    };
    const prepare = countingPreparer();
    await expect(executePlan(await plan(['alpha'], 1), { engine, prepareImage: prepare })).rejects.toThrow(
      EngineUnavailableError,
    );
    expect(prepare.calls).toEqual([]);
    expect(existsSync(join(root, '.reprorom', 'runs'))).toBe(false);
  });
  it("keeps only the last --log-lines lines of a failed run's output", async () => {
    const engine = fakeEngine(() => ({
      exitCode: 1,
      log: Array.from({ length: 100 }, (_, i) => `line ${i}`),
    }));
    const result = await executePlan(await plan(['alpha'], 1), {
      engine,
      prepareImage: countingPreparer(),
      logTailLines: 3,
    });
    expect(result.boards[0]?.runs[0]?.logTail).toEqual(['line 97', 'line 98', 'line 99']);
  });
});
