/**
 * One run of an executed plan, stage by stage: restore it from the store, or build it in its
 * container, boot it and save it. What the run needs flows down from the plan in `Execution`
 * and `ReadyBoard`; the outcome is recorded on the board's, a board's failure never thrown.
 */
import { join } from 'node:path';
import { bootRun } from '../boot/boot.js';
import type { BootJson } from '../contracts/json.js';
import type { Engine } from '../engine/port.js';
import type { ManifestInput } from '../hashes/runManifest.js';
import type { BuildPlan, PlannedBoard } from '../plan/plan.js';
import type { Variation } from '../plan/variations.js';
import type { PreparedSource } from '../sources/prepare.js';
import { EngineUnavailableError, hostFileSystemFault, ReproromError } from '../util/errors.js';
import { toolVersion } from '../util/version.js';
import type { Board } from '../workspace/schema.js';
import type { CappedLog } from './cappedLog.js';
import type { PlacedInput } from './inputs.js';
import { BoardRunError } from './logTail.js';
import type { BoardOutcome, ExecuteOptions, RunOutcome } from './outcome.js';
import type { ProgressListener } from './progress.js';
import { type BoardRunResult, runBoard } from './runBoard.js';
import { restoreRun, STORE_KEY_SCHEMA, type StoreKeyFields, saveRun, storeKey } from './store.js';

/** What every stage of one execution shares: the plan and the options flow down through it. */
export interface Execution {
  plan: BuildPlan;
  opts: ExecuteOptions;
  engine: Engine;
  runId: string;
  runDir: string;
  workDir: string;
  emit: ProgressListener;
  event: (board: string, text: string) => void;
  prep: (board: string, what: 'image' | 'source' | 'inputs', text: string) => void;
}

/** How a consumer's run gets its producers' runs: each run's folder once it is settled. */
export interface ProducerHandoff {
  /** Say that a run is done (its folder) or failed (undefined). */
  settle: (board: string, index: number, outDir: string | undefined) => void;
  /** The run's inputs: the board's pinned files, then one per producer board. */
  inputsOf: (planned: PlannedBoard, index: number, files: PlacedInput[]) => Promise<PlacedInput[]>;
}

/** One board, ready for its runs: its source, pinned files, epoch, log, and the outcome its runs fill in. */
export interface ReadyBoard {
  planned: PlannedBoard;
  imageId: string;
  source: PreparedSource;
  files: PlacedInput[];
  epoch: number;
  log: CappedLog;
  outcome: BoardOutcome;
  /** The highest index, not the count: a culprit search reruns runs 2..n alone (never "run 2/1"). */
  total: number;
}

export type PlannedRun = PlannedBoard['runs'][number];

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

/** The stages of one run: restore from the store, or build it, boot it and save it. A board's failure is recorded, not thrown. */
export async function runOne(
  x: Execution,
  ready: ReadyBoard,
  { index, variation, varied }: PlannedRun,
  handoff: ProducerHandoff,
): Promise<string | undefined> {
  const { planned, outcome, total } = ready;
  const name = planned.name;
  const run = { type: 'run', board: name, index, total } as const;
  x.emit({
    ...run,
    state: 'started',
    ...(varied.length ? { detail: `(varied: ${varied.join(', ')})` } : {}),
  });
  try {
    const inputs = await handoff.inputsOf(planned, index, ready.files);
    const outDir = join(x.runDir, name, String(index));
    const stored =
      x.opts.store && storeFields(planned, index, ready.imageId, ready.source.hash, ready.epoch, inputs);
    const key = stored && storeKey(stored);
    const entry = stored && key ? { stored, key } : undefined;
    const restore = await restoreStage(x, ready, index, variation, varied, entry, outDir);
    if (restore.restored) return outDir;
    const r = await buildStage(x, ready, index, variation, varied, inputs, outDir);
    const done: RunOutcome = {
      index,
      ok: true,
      outDir: r.outDir,
      durationMs: r.durationMs,
      variations: varied,
      variation,
      notApplied: r.notApplied,
    };
    if (x.plan.boot && planned.board.boot) done.boot = await bootStage(x, ready, index, r.outDir);
    if (entry) await saveStage(x, ready, index, entry, r.outDir, restore.refused);
    outcome.runs.push(done);
    x.emit({ ...run, state: 'done', detail: `in ${(r.durationMs / 1000).toFixed(1)} s` });
    return r.outDir;
  } catch (err) {
    // A full disk or a lost engine is not this board's fault: stop the build with exit 3.
    if (x.opts.signal?.aborted || isEnvironmentFault(err)) throw err;
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
    x.emit({ ...run, state: 'failed', detail: message });
    return undefined;
  }
}

interface StoreEntry {
  stored: StoreKeyFields;
  key: string;
}

/** A `restore` board's run from the store when an entry matches; a refused entry is rebuilt (and said so). */
async function restoreStage(
  x: Execution,
  { planned, outcome, total }: ReadyBoard,
  index: number,
  variation: Variation,
  varied: string[],
  entry: StoreEntry | undefined,
  outDir: string,
): Promise<{ restored: boolean; refused: boolean }> {
  const { store, culpritSearch } = x.opts;
  const name = planned.name;
  if (!store || !entry || !store.restore.has(name) || culpritSearch)
    return { restored: false, refused: false };
  const { key, stored } = entry;
  const got = await restoreRun(store.dir, key, stored, outDir);
  if (got.kind === 'restored') {
    outcome.runs.push({
      index,
      ok: true,
      outDir,
      durationMs: 0,
      variations: varied,
      variation,
      restored: { key },
    });
    x.event(name, `run ${index}/${total} restored from the store (key ${key.slice(0, 16)}…)`);
    x.emit({ type: 'run', board: name, index, total, state: 'done', detail: 'from the store' });
    return { restored: true, refused: false };
  }
  if (got.kind === 'refused') {
    x.event(
      name,
      `warning: store entry ${key.slice(0, 16)}… of run ${index} refused: ${got.reason}; rebuilding it`,
    );
    return { restored: false, refused: true };
  }
  return { restored: false, refused: false };
}

/** The run itself, in its own hardened container (runBoard.ts). */
function buildStage(
  x: Execution,
  { planned, source, imageId, epoch, log }: ReadyBoard,
  index: number,
  variation: Variation,
  varied: string[],
  inputs: PlacedInput[],
  outDir: string,
): Promise<BoardRunResult> {
  const { opts, plan } = x;
  const { name, board } = planned;
  return runBoard({
    engine: x.engine,
    runId: x.runId,
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
    outDir,
    log,
    ...(opts.logTailLines === undefined ? {} : { logTailLines: opts.logTailLines }),
    onLine: (line) => x.emit({ type: 'output', board: name, index, line }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/** Boot the built ROM (`build --boot` on a board with a boot section). */
async function bootStage(
  x: Execution,
  { planned, total }: ReadyBoard,
  index: number,
  runDir: string,
): Promise<BootJson> {
  const { name, board } = planned;
  x.emit({ type: 'run', board: name, index, total, state: 'booting' });
  const boot = await bootRun({ boardName: name, board, runDir, signal: x.opts.signal });
  x.emit({ type: 'boot', board: name, index, total, ok: boot.ok, message: boot.message });
  return boot;
}

/** Keep a `save` board's run in the store. */
async function saveStage(
  x: Execution,
  { planned, total }: ReadyBoard,
  index: number,
  { key, stored }: StoreEntry,
  outDir: string,
  refused: boolean,
): Promise<void> {
  const { store, culpritSearch } = x.opts;
  const name = planned.name;
  if (!store?.save.has(name) || culpritSearch) return;
  // A store that cannot be written costs a later shard a build, never this build its result.
  const saved = await saveRun(store.dir, key, stored, outDir, refused).catch(
    (err: unknown) => `not saved (${err instanceof Error ? err.message : String(err)})`,
  );
  if (saved === 'saved') x.event(name, `run ${index}/${total} saved in the store (key ${key.slice(0, 16)}…)`);
  else if (saved !== 'kept') x.event(name, `warning: run ${index}/${total} ${saved}`);
}

/** What determines a run's bytes, for its store key. */
function storeFields(
  planned: PlannedBoard,
  index: number,
  image: string,
  source: string,
  sourceDateEpoch: number,
  inputs: readonly PlacedInput[],
): StoreKeyFields | undefined {
  const run = planned.runs.find((r) => r.index === index);
  if (!run) return undefined;
  return {
    schema: STORE_KEY_SCHEMA,
    tool: toolVersion(),
    board: planned.name,
    definition: planned.board,
    image,
    pins: [planned.pin, ...planned.extraPins].map((p) => `${p.name} ${p.flake} ${p.narHash}`),
    source,
    sourceDateEpoch,
    inputs: inputs.map((i) => ({ path: i.record.path, sha256: i.record.sha256 })),
    index,
    variation: run.variation,
    varyOn: [...planned.vary.on].sort(),
  };
}

/** Failures of the host (disk, permissions, engine), which a retry of the board cannot fix. */
function isEnvironmentFault(err: unknown): boolean {
  return err instanceof EngineUnavailableError || hostFileSystemFault(err) !== undefined;
}
