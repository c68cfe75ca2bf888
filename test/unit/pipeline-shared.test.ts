/**
 * Issue 25 item 1: `build`, `release` and `verify` share one pipeline (runs/pipeline.ts).
 * With the fake engine, each goes through the same stages in the same order, says so with
 * the same typed progress events, and a mismatch gives all three the same verdict.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/port.js';
import type { ImagePreparer } from '../../src/imagebuild/prepare.js';
import { type BuildPlan, planBuild } from '../../src/plan/plan.js';
import { type ReleaseResult, releaseBoards } from '../../src/release/release.js';
import { signedFiles } from '../../src/release/releaseManifest.js';
import { signFiles } from '../../src/release/sign.js';
import { verifyRelease } from '../../src/release/verify.js';
import { runPipeline } from '../../src/runs/pipeline.js';
import type { PipelineStage, ProgressEvent } from '../../src/runs/progress.js';
import { ExitCode } from '../../src/util/errors.js';
import { loadValidWorkspace } from '../../src/workspace/load.js';
import { type FakeBuild, fakeEngine } from '../helpers/fakeEngine.js';
import { copyWorkspace } from '../helpers/workspace.js';

let root: string;
let outParent: string;

beforeEach(async () => {
  root = await copyWorkspace('rr-pipeline-');
  outParent = await mkdtemp(join(tmpdir(), 'rr-pipeline-out-'));
  await rm(join(root, 'boards'), { recursive: true });
  await mkdir(join(root, 'boards'));
  await mkdir(join(root, 'src-alpha'));
  await writeFile(join(root, 'src-alpha', 'main.c'), 'int alpha;\n');
  await writeFile(
    join(root, 'boards', 'alpha.yaml'),
    [
      'image: firmware',
      'source:',
      '  type: local',
      '  path: src-alpha',
      'commands:',
      '  - make',
      'artifacts:',
      '  - out/rom.bin',
      'sourceDateEpoch: 1700000000',
      '',
    ].join('\n'),
  );
});

/** Signs a written release as `reprorom sign` does (verify checks the signature before it rebuilds). */
async function signed(out: string, r: ReleaseResult): Promise<string> {
  if (!r.ok) throw new Error('the release was not written');
  const key = join(outParent, 'signer');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'signer', '-f', key]);
  await signFiles(
    signedFiles(r.manifest).map((f) => join(out, f)),
    key,
    'ssh',
  );
  return `${key}.pub`;
}

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outParent, { recursive: true, force: true });
});

const prepareImage: ImagePreparer = async (image) => ({
  id: `sha256:${'ab'.repeat(32)}`,
  tag: `reprorom/${image.name}:abababababab`,
});

async function plan(runs: number): Promise<BuildPlan> {
  return planBuild(await loadValidWorkspace(root), { boards: ['alpha'], runs, jobs: 1, cores: 2 });
}

/** Same bytes from every run: reproducible. */
const steady = () => fakeEngine(() => ({ exitCode: 0, files: { 'out/rom.bin': 'rom v1\n' } }));
/** Bytes that carry the run's index (a stamp): every run differs from the others. */
const stamped = () =>
  fakeEngine((b: FakeBuild) => ({
    exitCode: 0,
    files: { 'out/rom.bin': `rom v1, built by run ${b.spec.labels?.['reprorom.index']}\n` },
  }));

/** What a command's progress listener saw: the stages in order, and every event. */
function recorder() {
  const events: ProgressEvent[] = [];
  const onProgress = (e: ProgressEvent) => events.push(e);
  const stages = () =>
    events.filter((e) => e.type === 'stage').map((e) => (e as { stage: PipelineStage }).stage);
  /** The kinds of events in order, with repeats of the same kind folded into one. */
  const kinds = () =>
    events
      .map((e) => (e.type === 'stage' ? `stage:${e.stage}` : e.type))
      .filter((k, i, all) => k !== all[i - 1]);
  return { events, onProgress, stages, kinds };
}

/** The three commands' domain calls, as each command makes them, on a plan of two runs. */
async function build(
  engine: Engine,
  opts: { onProgress?: (e: ProgressEvent) => void; explain?: boolean; signal?: AbortSignal } = {},
) {
  return runPipeline(await plan(2), {
    engine,
    prepareImage,
    signal: opts.signal ?? new AbortController().signal,
    cores: 2,
    onProgress: opts.onProgress,
    afterFailedRuns: 'compare',
    explain: opts.explain ?? false,
  });
}

async function release(engine: Engine, out: string, onProgress?: (e: ProgressEvent) => void) {
  return releaseBoards(await plan(2), {
    out,
    engine,
    prepareImage,
    signal: new AbortController().signal,
    cores: 2,
    onProgress,
    allowDirty: true,
  });
}

/** verify of the release in `out`, signed first (verify checks the signature before it rebuilds). */
async function verify(
  engine: Engine,
  out: string,
  written: ReleaseResult,
  onProgress: (e: ProgressEvent) => void,
) {
  return verifyRelease(out, {
    workspace: root,
    key: await signed(out, written),
    engine,
    prepareImage,
    signal: new AbortController().signal,
    onProgress,
  });
}

/** How each command maps its result to an exit code (cli/commands/{build,release,verify}.ts). */
const exitOf = {
  build: (verdict: string) =>
    verdict === 'build-failed'
      ? ExitCode.buildFailed
      : verdict === 'not-reproducible'
        ? ExitCode.mismatch
        : ExitCode.ok,
  release: (ok: boolean) => (ok ? ExitCode.ok : ExitCode.mismatch),
  verify: (ok: boolean) => (ok ? ExitCode.ok : ExitCode.mismatch),
};

describe('one pipeline for build, release and verify', () => {
  it('goes through build → compare → verdict in the same order, with the same events, in all three', async () => {
    // build (as `build` calls it, explain off so the stages are those of release and verify)
    const [b, r, v] = [recorder(), recorder(), recorder()];
    const built = await build(steady(), { onProgress: b.onProgress });
    expect(built.verdict).toBe('reproducible');
    const out = join(outParent, 'release');
    const released = await release(steady(), out, r.onProgress);
    expect(released.ok).toBe(true);
    // verify: the release just written, rebuilt once
    const verified = await verify(steady(), out, released, v.onProgress);
    expect(verified.ok).toBe(true);

    const order: PipelineStage[] = ['build', 'compare', 'verdict'];
    expect(built.stages).toEqual(order);
    expect(b.stages()).toEqual(order);
    expect(r.stages()).toEqual(order);
    expect(v.stages()).toEqual(order);
    // The same typed events around the stages: prep (image, source), runs, then compare and verdict.
    const shape = ['stage:build', 'prep', 'run', 'stage:compare', 'stage:verdict'];
    expect(b.kinds()).toEqual(shape);
    expect(r.kinds()).toEqual(shape);
    // verify makes its image ready first, to check its ID against the provenance before
    // anything is built; from the build stage on, its events are those of the others.
    expect(v.kinds()).toEqual(['prep', ...shape]);
    // Each run's life as events: started then done, by index.
    for (const [rec, runs] of [
      [b, 2],
      [r, 2],
      [v, 1],
    ] as const) {
      const states = rec.events.flatMap((e) =>
        e.type === 'run' ? [`${e.index}/${e.total} ${e.state}`] : [],
      );
      const expected = Array.from({ length: runs }, (_, i) => [
        `${i + 1}/${runs} started`,
        `${i + 1}/${runs} done`,
      ]).flat();
      expect(states).toEqual(expected);
    }
  });

  it('gives a mismatch the same verdict and exit code in build, release and verify', async () => {
    const [b, r, v] = [recorder(), recorder(), recorder()];
    const built = await build(stamped(), { onProgress: b.onProgress });
    const released = await release(stamped(), join(outParent, 'not-written'), r.onProgress);
    // verify: a release made from steady runs, rebuilt by a machine whose build stamps its bytes
    const out = join(outParent, 'release');
    const good = await release(steady(), out);
    expect(good.ok).toBe(true);
    const verified = await verify(stamped(), out, good, v.onProgress);

    expect(built.verdict).toBe('not-reproducible');
    expect(released.ok).toBe(false);
    expect(released.pipeline.verdict).toBe('not-reproducible');
    expect(verified.ok).toBe(false);
    expect(verified.boards[0]?.artifacts.map((a) => a.verdict)).toEqual(['mismatch']);
    // The artifact each names is the same, with the same verdict from the same compare model.
    expect(built.outcome?.comparison.problems.map((a) => [a.name, a.verdict])).toEqual([
      ['rom.bin', 'mismatch'],
    ]);
    expect(released.ok ? [] : released.notReproducible).toEqual(['rom.bin (mismatch)']);
    const exits = [exitOf.build(built.verdict), exitOf.release(released.ok), exitOf.verify(verified.ok)];
    expect(exits).toEqual([ExitCode.mismatch, ExitCode.mismatch, ExitCode.mismatch]);
    // The stages are the same too: a mismatch stops none of them before the verdict.
    for (const rec of [b, r, v]) expect(rec.stages()).toEqual(['build', 'compare', 'verdict']);
    // Nothing of the refused release was written.
    expect(existsSync(join(outParent, 'not-written'))).toBe(false);
  });

  it('adds the explain stage between compare and verdict when build explains a mismatch', async () => {
    const b = recorder();
    const built = await build(stamped(), { onProgress: b.onProgress, explain: true });
    expect(built.verdict).toBe('not-reproducible');
    expect(b.stages()).toEqual(['build', 'compare', 'explain', 'verdict']);
    expect(built.culprits).toBeDefined();
  });

  it('does not start the compare stage once the signal is aborted during the build', async () => {
    const controller = new AbortController();
    const b = recorder();
    const onProgress = (e: ProgressEvent) => {
      b.onProgress(e);
      // Aborted as the last run ends: the compare stage must not start.
      if (e.type === 'run' && e.state === 'done' && e.index === 2) controller.abort(new Error('SIGINT'));
    };
    const err = await build(steady(), { onProgress, signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(b.stages()).toEqual(['build']);
  });
});
