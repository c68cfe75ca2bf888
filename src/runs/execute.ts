/**
 * Executes a build plan: images first (from the cache when unchanged), then each
 * board's source once, then every board × run in a small pool, each run in its
 * own hardened container under its own variation. Comparison happens after.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { connectEngine } from '../engine/docker.js';
import type { Engine } from '../engine/port.js';
import { type ImagePreparer, prepareImage } from '../imagebuild/prepare.js';
import type { BuildPlan, PlannedBoard, PlannedImage } from '../plan/plan.js';
import { type PreparedSource, prepareSource } from '../sources/prepare.js';
import { ConfigError } from '../util/errors.js';
import { acquireLock } from '../util/fileLock.js';
import { ensureStateDir, stateDir } from '../util/paths.js';
import { located } from '../workspace/references.js';
import { CappedLog, DEFAULT_LOG_BYTES } from './cappedLog.js';
import { assertPlaceable, fetchFileInputs, fileInputRecord, producerInput } from './inputs.js';
import type { BoardOutcome, BuildResult, ExecuteOptions } from './outcome.js';
import { runGraph } from './pool.js';
import { newRunId } from './runId.js';
import { type Execution, type PlannedRun, type ProducerHandoff, type ReadyBoard, runOne } from './runOne.js';
import { boardProducers, type RunTask, startOrder } from './schedule.js';
import { createWorkFolder, removeDeadWorkFolders } from './workFolders.js';

export type { BoardOutcome, BuildResult, ExecuteOptions, RunOutcome } from './outcome.js';

function epochOf(planned: PlannedBoard, prepared: PreparedSource): number {
  const { board } = planned;
  if (board.sourceDateEpoch !== 'commit') return board.sourceDateEpoch;
  if (prepared.commitTime === undefined) {
    throw new ConfigError([
      located(
        planned.entry.parsed,
        ['sourceDateEpoch'],
        `sourceDateEpoch is "commit" but a ${board.source.type} source has no commit time, expected a number`,
      ),
    ]);
  }
  return prepared.commitTime;
}

const defaultPrepareImage: ImagePreparer = (image, engine, opts) => prepareImage(image, engine, opts);

/** Run a plan: lock the workspace's state, sweep orphans, then every board × run. */
export async function executePlan(plan: BuildPlan, opts: ExecuteOptions = {}): Promise<BuildResult> {
  const engine = opts.engine ?? connectEngine();
  await engine.ping();
  await ensureStateDir(plan.root);
  const emit = opts.onProgress ?? (() => {});
  const event = (board: string, text: string) => emit({ type: 'note', board, text });
  const unlock = await acquireLock(join(stateDir(plan.root), 'build.lock'), {
    waitMs: opts.lockWaitMs ?? 30 * 60_000,
    onWait: (pid) => event('build', `waiting for the build of pid ${pid} in this workspace to finish`),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  try {
    // A build killed hard (or cut off from its engine) could not remove its containers: do it now.
    const orphans = await engine.removeOrphans();
    if (orphans > 0) event('build', `removed ${orphans} container(s) left by an earlier run that died`);
    const stale = await removeDeadWorkFolders(join(stateDir(plan.root), 'work'));
    if (stale > 0) event('build', `removed ${stale} work folder(s) left by an earlier build that died`);
    return await executeLocked(plan, opts, engine);
  } finally {
    await unlock();
  }
}

/**
 * The stages of one execution, each a function below: make the images ready, prepare each
 * board (source, input files, log), then run every board × run in the pool.
 */
async function executeLocked(plan: BuildPlan, opts: ExecuteOptions, engine: Engine): Promise<BuildResult> {
  const runId = newRunId();
  const emit = opts.onProgress ?? (() => {});
  const x: Execution = {
    plan,
    opts,
    engine,
    runId,
    runDir: join(opts.culpritSearch?.dir ?? join(stateDir(plan.root), 'runs'), runId),
    workDir: join(stateDir(plan.root), 'work', runId),
    emit,
    event: (board, text) => emit({ type: 'note', board, text }),
    prep: (board, what, text) => emit({ type: 'prep', board, what, text }),
  };
  await mkdir(x.runDir, { recursive: true });
  await createWorkFolder(x.workDir);
  const logs: CappedLog[] = [];
  try {
    const imageIds = await prepareImages(x);
    const handoff = producerHandoff(x);
    const boards: BoardOutcome[] = [];
    const tasks: RunTask[] = [];
    for (const planned of plan.boards) {
      const ready = await prepareBoard(x, planned, imageIds.get(planned.image) ?? '', logs);
      boards.push(ready.outcome);
      for (const run of planned.runs) tasks.push(runTask(x, ready, run, handoff));
    }
    const settled = await runGraph(startOrder(tasks), plan.jobs);
    const rejected = settled.find((s) => s.status === 'rejected');
    if (rejected && rejected.status === 'rejected') throw rejected.reason;
    for (const b of boards) b.runs.sort((p, q) => p.index - q.index);
    return { runId, runDir: x.runDir, boards };
  } finally {
    await Promise.all(logs.map((l) => l.end()));
    await rm(x.workDir, { recursive: true, force: true });
    if (opts.signal?.aborted) await rm(x.runDir, { recursive: true, force: true });
  }
}

/** Each image of the plan, from the cache or built, in the order the boards first need it. */
async function prepareImages(x: Execution): Promise<Map<PlannedImage, string>> {
  const prepare = x.opts.prepareImage ?? defaultPrepareImage;
  const imageIds = new Map<PlannedImage, string>();
  for (const image of x.plan.images) {
    const firstUser = x.plan.boards.find((b) => b.image === image)?.name ?? 'build';
    x.prep(firstUser, 'image', `image ${image.name}`);
    const ready = await prepare(image, x.engine, {
      ...(x.opts.signal ? { signal: x.opts.signal } : {}),
      onStep: (s) => x.prep(firstUser, 'image', `image ${image.name}: ${s}`),
    });
    imageIds.set(image, ready.id);
  }
  return imageIds;
}

function producerHandoff(x: Execution): ProducerHandoff {
  // Each run's folder once it is done (undefined: it failed), for the boards it feeds.
  const done = new Map<string, Promise<string | undefined>>();
  const settle = new Map<string, (outDir: string | undefined) => void>();
  for (const planned of x.plan.boards)
    for (const { index } of planned.runs) {
      const key = `${planned.name}#${index}`;
      done.set(key, new Promise((resolve) => settle.set(key, resolve)));
    }
  return {
    settle: (board, index, outDir) => settle.get(`${board}#${index}`)?.(outDir),
    /** A consumer's run i starts after its producer's run i has settled (see startOrder), so this does not wait. */
    inputsOf: async (planned, index, files) => {
      const placed = [...files];
      for (const input of planned.board.inputs) {
        if (input.type !== 'board') continue;
        const ours = done.get(`${input.board}#${index}`);
        const outDir = ours ? await ours : x.opts.producerRun?.(input.board, index);
        placed.push(await producerInput(planned.name, input, index, outDir));
      }
      return placed;
    },
  };
}

/** The board's source once, its pinned input files, and its log (added to `logs` at once, so it is always ended). */
async function prepareBoard(
  x: Execution,
  planned: PlannedBoard,
  imageId: string,
  logs: CappedLog[],
): Promise<ReadyBoard> {
  const { name, board } = planned;
  x.prep(name, 'source', `preparing source (${board.source.type})`);
  const source = await prepareSource(x.plan.root, board.source, {
    into: join(x.workDir, name, 'src'),
    ...(x.opts.signal ? { signal: x.opts.signal } : {}),
  });
  assertPlaceable(name, board, source.entries);
  if (board.inputs.some((i) => i.type !== 'board')) x.prep(name, 'inputs', 'fetching pinned input files');
  const files = (await fetchFileInputs(board, x.plan.root, x.opts.signal)).map(fileInputRecord);
  const epoch = epochOf(planned, source);
  const logPath = join(x.runDir, `${name}.log`);
  const cap = board.limits.log ?? DEFAULT_LOG_BYTES;
  const log = new CappedLog(logPath, cap, () =>
    x.event(
      name,
      `log over ${Math.round(cap / 1024 / 1024)} MiB: keeping its head and tail only (limits.log)`,
    ),
  );
  logs.push(log);
  const outcome: BoardOutcome = {
    board: name,
    image: { name: planned.image.name, id: imageId },
    sourceHash: source.hash,
    log: logPath,
    vary: planned.vary,
    runs: [],
  };
  const total = Math.max(0, ...planned.runs.map((r) => r.index));
  return { planned, imageId, source, files, epoch, log, outcome, total };
}

/** One run as a pool task: whatever happens, its consumers learn its folder (or that it failed). */
function runTask(x: Execution, ready: ReadyBoard, run: PlannedRun, handoff: ProducerHandoff): RunTask {
  const { name, board } = ready.planned;
  return {
    board: name,
    index: run.index,
    producers: boardProducers(board),
    run: async () => {
      let finishedIn: string | undefined;
      try {
        finishedIn = await runOne(x, ready, run, handoff);
      } finally {
        handoff.settle(name, run.index, finishedIn);
      }
    },
  };
}
