/**
 * Executes a build plan: images first (from the cache when unchanged), then each
 * board's source once, then every board × run in a small pool, each run in its
 * own hardened container under its own variation. Comparison happens after.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bootRun } from '../boot/boot.js';
import { connectEngine, type Engine } from '../engine/docker.js';
import type { ManifestInput } from '../hashes/runManifest.js';
import { type ImagePreparer, prepareImage } from '../imagebuild/prepare.js';
import type { BuildPlan, PlannedBoard, PlannedImage } from '../plan/plan.js';
import type { Variation, VariationChoice } from '../plan/variations.js';
import { type PreparedSource, prepareSource } from '../sources/prepare.js';
import { ConfigError, EngineUnavailableError, hostFileSystemFault, ReproromError } from '../util/errors.js';
import { acquireLock } from '../util/fileLock.js';
import { ensureStateDir, stateDir } from '../util/paths.js';
import { located } from '../workspace/references.js';
import type { Board } from '../workspace/schema.js';
import { CappedLog, DEFAULT_LOG_BYTES } from './cappedLog.js';
import {
  assertPlaceable,
  fetchFileInputs,
  fileInputRecord,
  type PlacedInput,
  producerInput,
} from './inputs.js';
import { BoardRunError } from './logTail.js';
import { runGraph } from './pool.js';
import { runBoard } from './runBoard.js';
import { newRunId } from './runId.js';
import { boardProducers, type RunTask, startOrder } from './schedule.js';
import { createWorkFolder, removeDeadWorkFolders } from './workFolders.js';

export interface ExecuteOptions {
  /** Default: the engine DOCKER_HOST names (or the local socket). */
  engine?: Engine;
  signal?: AbortSignal;
  /** How images are made ready; default: from the cache or built, then loaded. */
  prepareImage?: ImagePreparer;
  /** How long to wait for another build of the same workspace (default 30 min). */
  lockWaitMs?: number;
  /** Progress for people: one short line per event. */
  onEvent?: (board: string, text: string) => void;
  onLine?: (board: string, index: number, line: string) => void;
  /** Each run's state, for live progress (the same moments as the event lines). */
  onRunState?: (
    board: string,
    index: number,
    total: number,
    state: 'started' | 'booting' | 'done' | 'failed',
  ) => void;
  /** Lines of a failed run's output to keep with the failure (default 40). */
  logTailLines?: number;
  /**
   * The run folder of a producer the plan does not build (the culprit search rebuilds a
   * consumer alone, from the first build's reference run of its producers).
   */
  producerRun?: (board: string, index: number) => string | undefined;
  /**
   * The reruns of a culprit search: their run folder goes inside the build's own (`dir`), never
   * beside it in runs/, and each manifest says which build's mismatch it explains (`of`).
   */
  culpritSearch?: { of: string; dir: string };
}

export interface RunOutcome {
  index: number;
  ok: boolean;
  durationMs?: number;
  boot?: import('../contracts/json.js').BootJson;
  outDir?: string;
  error?: string;
  exitCode?: number;
  /** A failed run's last lines of output. */
  logTail?: string[];
  variations: string[];
  variation: Variation;
  /** Variations this run should have applied but could not (the plan's and the container's reasons). */
  notApplied?: Partial<Record<string, string>>;
}

export interface BoardOutcome {
  board: string;
  image: { name: string; id: string };
  sourceHash?: string;
  log: string;
  vary: VariationChoice;
  runs: RunOutcome[];
}

export interface BuildResult {
  runId: string;
  runDir: string;
  boards: BoardOutcome[];
}

/** What the manifest (and the provenance made from it) says of the source: its tree and its published origin. */
function sourceInfo(board: Board, prepared: PreparedSource): ManifestInput['source'] {
  const s = board.source;
  const local = prepared.workspaceGit;
  return {
    type: s.type,
    hash: prepared.hash,
    ...(prepared.commit ? { commit: prepared.commit } : {}),
    ...(s.type === 'debian-source'
      ? {
          package: s.package,
          version: s.version,
          files: s.sha256,
          patches: { policy: s.patches, applied: prepared.patches ?? [] },
        }
      : {}),
    ...(s.type === 'git' || s.type === 'tarball' ? { url: s.url } : {}),
    ...(s.type === 'tarball' ? { sha256: s.sha256 } : {}),
    ...(s.type === 'local'
      ? local
        ? { commit: local.commit, path: local.path, dirty: local.dirty }
        : { dirty: true }
      : {}),
  };
}

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
  const event = opts.onEvent ?? (() => {});
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

async function executeLocked(plan: BuildPlan, opts: ExecuteOptions, engine: Engine): Promise<BuildResult> {
  const runId = newRunId();
  const runDir = join(opts.culpritSearch?.dir ?? join(stateDir(plan.root), 'runs'), runId);
  const workDir = join(stateDir(plan.root), 'work', runId);
  const event = opts.onEvent ?? (() => {});
  const prepare = opts.prepareImage ?? defaultPrepareImage;
  await mkdir(runDir, { recursive: true });
  await createWorkFolder(workDir);
  const logs: CappedLog[] = [];
  try {
    const imageIds = new Map<PlannedImage, string>();
    for (const image of plan.images) {
      const firstUser = plan.boards.find((b) => b.image === image)?.name ?? 'build';
      event(firstUser, `image ${image.name}`);
      const ready = await prepare(image, engine, {
        ...(opts.signal ? { signal: opts.signal } : {}),
        onStep: (s) => event(firstUser, `image ${image.name}: ${s}`),
      });
      imageIds.set(image, ready.id);
    }
    const boards: BoardOutcome[] = [];
    const tasks: RunTask[] = [];
    // Each run's folder once it is done (undefined: it failed), for the boards it feeds.
    const done = new Map<string, Promise<string | undefined>>();
    const settle = new Map<string, (outDir: string | undefined) => void>();
    for (const planned of plan.boards)
      for (const { index } of planned.runs) {
        const key = `${planned.name}#${index}`;
        done.set(key, new Promise((resolve) => settle.set(key, resolve)));
      }
    /** A consumer's run i starts after its producer's run i has settled (see startOrder), so this does not wait. */
    const inputsOf = async (planned: PlannedBoard, index: number, files: PlacedInput[]) => {
      const placed = [...files];
      for (const input of planned.board.inputs) {
        if (input.type !== 'board') continue;
        const ours = done.get(`${input.board}#${index}`);
        const outDir = ours ? await ours : opts.producerRun?.(input.board, index);
        placed.push(await producerInput(planned.name, input, index, outDir));
      }
      return placed;
    };
    for (const planned of plan.boards) {
      const { name, board } = planned;
      const imageId = imageIds.get(planned.image) ?? '';
      event(name, `preparing source (${board.source.type})`);
      const source = await prepareSource(plan.root, board.source, {
        into: join(workDir, name, 'src'),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      assertPlaceable(name, board, source.entries);
      if (board.inputs.some((i) => i.type !== 'board')) event(name, 'fetching pinned input files');
      const files = (await fetchFileInputs(board, plan.root, opts.signal)).map(fileInputRecord);
      const epoch = epochOf(planned, source);
      const logPath = join(runDir, `${name}.log`);
      const cap = board.limits.log ?? DEFAULT_LOG_BYTES;
      const log = new CappedLog(logPath, cap, () =>
        event(
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
      boards.push(outcome);
      // The highest index, not the count: a culprit search reruns runs 2..n alone (never "run 2/1").
      const total = Math.max(0, ...planned.runs.map((r) => r.index));
      for (const { index, variation, varied } of planned.runs) {
        tasks.push({
          board: name,
          index,
          producers: boardProducers(board),
          run: async () => {
            let finishedIn: string | undefined;
            try {
              finishedIn = await runOne();
            } finally {
              settle.get(`${name}#${index}`)?.(finishedIn);
            }
          },
        });
        const runOne = async (): Promise<string | undefined> => {
          event(
            name,
            `run ${index}/${total} started${varied.length ? ` (varied: ${varied.join(', ')})` : ''}`,
          );
          opts.onRunState?.(name, index, total, 'started');
          try {
            const inputs = await inputsOf(planned, index, files);
            const r = await runBoard({
              engine,
              runId,
              index,
              ...(plan.machine ? { machine: plan.machine } : {}),
              boardName: name,
              board,
              source,
              sourceInfo: sourceInfo(board, source),
              image: { name: planned.image.name, id: imageId },
              pin: planned.pin,
              extraPins: planned.extraPins,
              variation,
              vary: planned.vary,
              sourceDateEpoch: epoch,
              inputs,
              ...(opts.culpritSearch
                ? {
                    culpritSearch: {
                      of: opts.culpritSearch.of,
                      isolates: varied.length > 0 ? varied.join('+') : 'reference',
                    },
                  }
                : {}),
              outDir: join(runDir, name, String(index)),
              log,
              ...(opts.logTailLines === undefined ? {} : { logTailLines: opts.logTailLines }),
              onLine: (line) => opts.onLine?.(name, index, line),
              ...(opts.signal ? { signal: opts.signal } : {}),
            });
            const run: RunOutcome = {
              index,
              ok: true,
              outDir: r.outDir,
              durationMs: r.durationMs,
              variations: varied,
              variation,
              notApplied: r.notApplied,
            };
            if (plan.boot && board.boot) {
              event(name, `run ${index}/${total} booting`);
              opts.onRunState?.(name, index, total, 'booting');
              const boot = await bootRun({ boardName: name, board, runDir: r.outDir, signal: opts.signal });
              run.boot = boot;
              event(name, `run ${index}/${total} boot ${boot.ok ? 'ok' : 'FAILED'}: ${boot.message}`);
            }
            outcome.runs.push(run);
            event(name, `run ${index}/${total} done in ${(r.durationMs / 1000).toFixed(1)} s`);
            opts.onRunState?.(name, index, total, 'done');
            return r.outDir;
          } catch (err) {
            // A full disk or a lost engine is not this board's fault: stop the build with exit 3.
            if (opts.signal?.aborted || isEnvironmentFault(err)) throw err;
            const message = err instanceof Error ? err.message : String(err);
            const exitCode = err instanceof ReproromError ? err.exitCode : undefined;
            outcome.runs.push({
              index,
              ok: false,
              error: message,
              variations: varied,
              variation,
              ...(exitCode === undefined ? {} : { exitCode }),
              ...(err instanceof BoardRunError ? { logTail: err.logTail } : {}),
            });
            event(name, `run ${index}/${total} FAILED: ${message}`);
            opts.onRunState?.(name, index, total, 'failed');
            return undefined;
          }
        };
      }
    }
    const settled = await runGraph(startOrder(tasks), plan.jobs);
    const rejected = settled.find((s) => s.status === 'rejected');
    if (rejected && rejected.status === 'rejected') throw rejected.reason;
    for (const b of boards) b.runs.sort((x, y) => x.index - y.index);
    return { runId, runDir, boards };
  } finally {
    await Promise.all(logs.map((l) => l.end()));
    await rm(workDir, { recursive: true, force: true });
    if (opts.signal?.aborted) await rm(runDir, { recursive: true, force: true });
  }
}

/** Failures of the host (disk, permissions, engine), which a retry of the board cannot fix. */
function isEnvironmentFault(err: unknown): boolean {
  return err instanceof EngineUnavailableError || hostFileSystemFault(err) !== undefined;
}
