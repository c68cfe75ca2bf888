/**
 * `reprorom build`: images first (from the cache when unchanged), then each
 * board's source once, then every board × run in a small pool, each run in its
 * own hardened container under its own variation. Comparison happens after.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { bootRun } from '../boot/boot.js';
import { connectEngine, type Engine } from '../engine/docker.js';
import type { ManifestInput } from '../hashes/runManifest.js';
import { buildImage, type ImageBuildResult } from '../imagebuild/buildImage.js';
import { ensureLoaded } from '../imagebuild/load.js';
import { type PreparedSource, prepareSource } from '../sources/prepare.js';
import { ConfigError, EngineUnavailableError, hostFileSystemFault, ReproromError } from '../util/errors.js';
import { acquireLock } from '../util/fileLock.js';
import { stateDir } from '../util/paths.js';
import type { Workspace } from '../workspace/load.js';
import type { Board } from '../workspace/schema.js';
import { runPool } from './pool.js';
import { runBoard } from './runBoard.js';
import { newRunId } from './runId.js';
import type { LockedPinRef } from './types.js';
import { appliedVariations, type Variation, variationFor } from './variations.js';

export interface BuildOptions {
  boards: string[];
  runs: number;
  jobs: number;
  signal?: AbortSignal;
  engine?: Engine;
  /** Boot each successful run's artifacts with the board's `boot:` check. */
  boot?: boolean;
  /** How long to wait for another build of the same workspace (default 30 min). */
  lockWaitMs?: number;
  /** Name of this machine, recorded in manifests for N-way comparison across machines. */
  machine?: string;
  /** Progress for people: one short line per event. */
  onEvent?: (board: string, text: string) => void;
  onLine?: (board: string, index: number, line: string) => void;
}

export interface RunOutcome {
  index: number;
  ok: boolean;
  durationMs?: number;
  boot?: import('../contracts/json.js').BootJson;
  outDir?: string;
  error?: string;
  exitCode?: number;
  variations: string[];
  variation: Variation;
}

export interface BoardOutcome {
  board: string;
  image: { name: string; id: string };
  sourceHash?: string;
  log: string;
  runs: RunOutcome[];
}

export interface BuildResult {
  runId: string;
  runDir: string;
  boards: BoardOutcome[];
}

export function selectBoards(ws: Workspace, names: string[], all: boolean): string[] {
  if (all) return [...ws.boards.keys()].sort();
  const unknown = names.filter((n) => !ws.boards.has(n));
  if (unknown.length > 0) {
    throw new ConfigError(
      unknown.map((n) => ({
        file: 'boards/',
        line: 1,
        col: 1,
        message: `board "${n}" does not exist, expected one of: ${[...ws.boards.keys()].join(', ')}`,
      })),
    );
  }
  return names;
}

function pinRef(ws: Workspace, name: string): LockedPinRef {
  const pin = ws.pins.get(name)?.value;
  return { name, flake: pin?.flake ?? '', narHash: pin?.narHash ?? '' };
}

function sourceInfo(board: Board, prepared: PreparedSource): ManifestInput['source'] {
  const s = board.source;
  return {
    type: s.type,
    hash: prepared.hash,
    ...(prepared.commit ? { commit: prepared.commit } : {}),
    ...(s.type === 'debian-source' ? { package: s.package, version: s.version } : {}),
  };
}

function epochOf(boardName: string, board: Board, prepared: PreparedSource): number {
  if (board.sourceDateEpoch !== 'commit') return board.sourceDateEpoch;
  if (prepared.commitTime === undefined) {
    throw new ConfigError([
      {
        file: `boards/${boardName}.yaml`,
        line: 1,
        col: 1,
        message: `sourceDateEpoch is "commit" but a ${board.source.type} source has no commit time, expected a number`,
      },
    ]);
  }
  return prepared.commitTime;
}

export async function runBuild(ws: Workspace, opts: BuildOptions): Promise<BuildResult> {
  const engine = opts.engine ?? connectEngine();
  await engine.ping();
  await mkdir(stateDir(ws.root), { recursive: true });
  const unlock = await acquireLock(join(stateDir(ws.root), 'build.lock'), {
    waitMs: opts.lockWaitMs ?? 30 * 60_000,
    onWait: (pid) =>
      (opts.onEvent ?? (() => {}))(
        'build',
        `waiting for the build of pid ${pid} in this workspace to finish`,
      ),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  try {
    // A build killed hard (or cut off from its engine) could not remove its containers: do it now.
    const orphans = await engine.removeOrphans();
    if (orphans > 0)
      (opts.onEvent ?? (() => {}))(
        'build',
        `removed ${orphans} container(s) left by an earlier run that died`,
      );
    return await runBuildLocked(ws, opts, engine);
  } finally {
    await unlock();
  }
}

async function runBuildLocked(ws: Workspace, opts: BuildOptions, engine: Engine): Promise<BuildResult> {
  const runId = newRunId();
  const runDir = join(stateDir(ws.root), 'runs', runId);
  const workDir = join(stateDir(ws.root), 'work', runId);
  const event = opts.onEvent ?? (() => {});
  await mkdir(runDir, { recursive: true });
  const logs: WriteStream[] = [];
  try {
    const images = new Map<string, ImageBuildResult>();
    for (const name of opts.boards) {
      const imageName = ws.boards.get(name)!.value.image;
      if (images.has(imageName)) continue;
      event(name, `image ${imageName}`);
      const image = await buildImage(ws, imageName, {
        signal: opts.signal,
        onStep: (s) => event(name, `image ${imageName}: ${s}`),
      });
      await ensureLoaded(engine, image, opts.signal);
      images.set(imageName, image);
    }
    const boards: BoardOutcome[] = [];
    const tasks: Array<() => Promise<void>> = [];
    const cores = availableParallelism();
    for (const name of opts.boards) {
      const board = ws.boards.get(name)!.value;
      const image = images.get(board.image)!;
      const imageDef = ws.images.get(board.image)!.value;
      event(name, `preparing source (${board.source.type})`);
      const source = await prepareSource(ws.root, board.source, {
        into: join(workDir, name, 'src'),
        signal: opts.signal,
      });
      const epoch = epochOf(name, board, source);
      const logPath = join(runDir, `${name}.log`);
      const log = createWriteStream(logPath);
      logs.push(log);
      const outcome: BoardOutcome = {
        board: name,
        image: { name: board.image, id: image.id },
        sourceHash: source.hash,
        log: logPath,
        runs: [],
      };
      boards.push(outcome);
      for (let index = 1; index <= opts.runs; index++) {
        const variation = variationFor(index, cores);
        tasks.push(async () => {
          const applied = appliedVariations(variation, cores);
          event(
            name,
            `run ${index}/${opts.runs} started${applied.length ? ` (varied: ${applied.join(', ')})` : ''}`,
          );
          try {
            const r = await runBoard({
              engine,
              runId,
              index,
              ...(opts.machine ? { machine: opts.machine } : {}),
              boardName: name,
              board,
              source,
              sourceInfo: sourceInfo(board, source),
              image: { name: board.image, id: image.id },
              pin: pinRef(ws, imageDef.pin),
              extraPins: imageDef.extraPins.map((e) => pinRef(ws, e.pin)),
              variation,
              sourceDateEpoch: epoch,
              outDir: join(runDir, name, String(index)),
              log,
              onLine: (line) => opts.onLine?.(name, index, line),
              signal: opts.signal,
            });
            const run: RunOutcome = {
              index,
              ok: true,
              outDir: r.outDir,
              durationMs: r.durationMs,
              variations: applied,
              variation,
            };
            if (opts.boot && board.boot) {
              event(name, `run ${index}/${opts.runs} booting`);
              const boot = await bootRun({ boardName: name, board, runDir: r.outDir, signal: opts.signal });
              run.boot = boot;
              event(name, `run ${index}/${opts.runs} boot ${boot.ok ? 'ok' : 'FAILED'}: ${boot.message}`);
            }
            outcome.runs.push(run);
            event(name, `run ${index}/${opts.runs} done in ${(r.durationMs / 1000).toFixed(1)} s`);
          } catch (err) {
            // A full disk or a lost engine is not this board's fault: stop the build with exit 3.
            if (opts.signal?.aborted || isEnvironmentFault(err)) throw err;
            const message = err instanceof Error ? err.message : String(err);
            const exitCode = err instanceof ReproromError ? err.exitCode : undefined;
            outcome.runs.push({
              index,
              ok: false,
              error: message,
              variations: applied,
              variation,
              ...(exitCode === undefined ? {} : { exitCode }),
            });
            event(name, `run ${index}/${opts.runs} FAILED: ${message}`);
          }
        });
      }
    }
    const settled = await runPool(tasks, opts.jobs);
    const rejected = settled.find((s) => s.status === 'rejected');
    if (rejected && rejected.status === 'rejected') throw rejected.reason;
    for (const b of boards) b.runs.sort((x, y) => x.index - y.index);
    return { runId, runDir, boards };
  } finally {
    for (const log of logs) log.end();
    await Promise.all(logs.map((l) => finished(l).catch(() => {})));
    await rm(workDir, { recursive: true, force: true });
    if (opts.signal?.aborted) await rm(runDir, { recursive: true, force: true });
  }
}

/** Failures of the host (disk, permissions, engine), which a retry of the board cannot fix. */
function isEnvironmentFault(err: unknown): boolean {
  return err instanceof EngineUnavailableError || hostFileSystemFault(err) !== undefined;
}
