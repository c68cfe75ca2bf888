/**
 * One run of one board: the prepared source goes into a fresh hardened
 * container, the board's commands run, the artifacts come out (see transfer.ts),
 * and hashes.txt + manifest.json are written. The run
 * folder appears in one rename, so nothing half-written is ever left behind.
 */
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MASKED_PATHS, READONLY_PATHS } from '../engine/hostMasks.js';
import { ContainerTimeoutError, type Engine, type RunSpec } from '../engine/port.js';
import type { ManifestInput } from '../hashes/runManifest.js';
import type { Variation, VariationChoice } from '../plan/variations.js';
import type { PreparedSource } from '../sources/prepare.js';
import { BuildFailedError } from '../util/errors.js';
import { toolVersion } from '../util/version.js';
import type { Board } from '../workspace/schema.js';
import type { RunLog } from './cappedLog.js';
import type { PlacedInput } from './inputs.js';
import { BoardRunError, type LogTail } from './logTail.js';
import { describeRefusal, type OutputWatch, watchOutput } from './outputWatch.js';
import { writeRunRecords } from './runRecords.js';
import { ARTIFACTS_REFUSED_EXIT, BUILD_DIR, containerCommand, SOURCE_DIR } from './script.js';
import { ASLR_SECURITY_OPT, seccompRefusal } from './seccompProbe.js';
import { sourceTar } from './sourceTar.js';
import { startTransfer, type Transfer } from './transfer.js';
import type { BuiltArtifact, LockedPinRef } from './types.js';

export interface BoardRunInput {
  engine: Engine;
  runId: string;
  index: number;
  machine?: string;
  boardName: string;
  board: Board;
  source: PreparedSource;
  sourceInfo: ManifestInput['source'];
  image: { name: string; id: string };
  pin: LockedPinRef;
  extraPins: LockedPinRef[];
  variation: Variation;
  /** The board's choice of variations (what is off and why goes into the run's record). */
  vary?: VariationChoice;
  sourceDateEpoch: number;
  /** Files placed in the source tree before the build (board inputs), recorded in the manifest. */
  inputs?: readonly PlacedInput[];
  /** Set on a culprit search's reruns: recorded in the manifest, so no one counts them as runs. */
  culpritSearch?: { of: string; isolates: string };
  /** Final folder of this run (…/runs/RUN/BOARD/INDEX); must not exist yet. */
  outDir: string;
  log: RunLog;
  /** Lines of the run's own output a failure carries (default DEFAULT_LOG_TAIL). */
  logTailLines?: number;
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

export interface BoardRunResult {
  outDir: string;
  artifacts: BuiltArtifact[];
  durationMs: number;
  /** Variations this run should have applied but could not, with the reason. */
  notApplied: Record<string, string>;
}

/** The container's environment: fixed where it must be, varied where the run says so. */
export function runEnv(
  input: Pick<BoardRunInput, 'board' | 'variation' | 'sourceDateEpoch'>,
): Record<string, string> {
  const v = input.variation;
  return {
    ...input.board.env,
    SOURCE_DATE_EPOCH: String(input.sourceDateEpoch),
    TZ: v.tz,
    LANG: v.locale,
    LC_ALL: v.locale,
    HOME: '/build/home',
    USER: 'build',
    MAKEFLAGS: `-j${v.jobs}`,
    REPROROM_JOBS: String(v.jobs),
  };
}

/**
 * The stages of one run, each a function below: watch the output, start the transfer,
 * run the container, judge its exit, record the run, then publish the folder in one rename.
 */
export async function runBoard(input: BoardRunInput): Promise<BoardRunResult> {
  await mkdir(dirname(input.outDir), { recursive: true });
  const work = await mkdtemp(`${input.outDir}.tmp-`);
  const watch = watchOutput(input, planNotApplied(input));
  // A failed transfer stops the container at once: it may be waiting for the rest of its source.
  const stop = new AbortController();
  const signal = input.signal ? AbortSignal.any([input.signal, stop.signal]) : stop.signal;
  const transfer = startBoardTransfer(input, work, stop);
  try {
    const ran = await runContainerStage(input, transfer, watch, signal);
    judgeExit(input, ran, watch);
    await writeRunRecords(work, ran.copied, runManifest(input, ran, watch.notApplied));
    await rename(work, input.outDir);
    return {
      outDir: input.outDir,
      artifacts: ran.copied,
      durationMs: ran.durationMs,
      notApplied: watch.notApplied,
    };
  } catch (err) {
    throw boardFailure(input, err, watch.tail);
  } finally {
    transfer.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** The source goes in and the artifacts come out through one transfer; a mode the limits cannot use stops the run. */
function startBoardTransfer(input: BoardRunInput, work: string, stop: AbortController): Transfer {
  const v = input.variation;
  const prefix = `[${input.boardName}#${input.index}]`;
  return startTransfer({
    engine: input.engine,
    onFailure: (err) => stop.abort(err),
    into: join(work, 'artifacts'),
    ...(v.buildPath === SOURCE_DIR ? {} : { sourceDir: v.buildPath }),
    onMode: (mode) => {
      input.log.write(
        `${prefix} reprorom: files move ${mode === 'tar' ? "through the image's GNU tar (stdin/stdout)" : "through the engine's archive API (the image has no GNU tar)"}\n`,
      );
      // The archive API cannot reach into a tmpfs: a disk limit needs the image's own tar.
      if (mode !== 'tar' && readdirTmpfs(input)) {
        stop.abort(
          new BuildFailedError(
            `board ${input.boardName}: the fileordering variation needs GNU tar in image ${input.image.name} (files cannot be copied into the tmpfs /build otherwise)`,
            `add GNU tar to the image, or turn the variation off: --no-vary fileordering, or vary: { fileordering: { off: "REASON" } } in boards/${input.boardName}.yaml`,
          ),
        );
      } else if (mode !== 'tar' && input.board.limits.disk !== undefined) {
        stop.abort(
          new BuildFailedError(
            `board ${input.boardName}: limits.disk needs GNU tar in image ${input.image.name} (files cannot be copied into a size-limited /build otherwise)`,
            `add GNU tar to the image, or remove limits.disk from boards/${input.boardName}.yaml`,
          ),
        );
      }
    },
    // /build/home must exist and belong to the build user before anything runs: it comes with the source.
    source: () =>
      sourceTar(input.source.dir, input.source.entries, {
        prefix: relativeToBuild(v.buildPath),
        uid: v.uid,
        order: v.fileOrder,
        seed: v.seed,
        mtime: input.sourceDateEpoch,
        emptyDirs: ['home', ...parentsOf(relativeToBuild(v.buildPath))],
        extraFiles: (input.inputs ?? []).map((i) => ({ rel: i.record.path, file: i.file })),
      }),
  });
}

interface ContainerRun {
  exitCode: number;
  oomKilled: boolean;
  copied: BuiltArtifact[];
  durationMs: number;
}

/** The hardened container under the run's variation; the artifacts are copied out before it is removed. */
async function runContainerStage(
  input: BoardRunInput,
  transfer: Transfer,
  watch: OutputWatch,
  signal: AbortSignal,
): Promise<ContainerRun> {
  const { engine, variation: v } = input;
  let copied: BuiltArtifact[] = [];
  // ASLR off needs reprorom's seccomp profile (the engine's default refuses setarch -R).
  const seccompRefused = v.aslr ? undefined : await seccompRefusal(engine, input.image.id, input.runId);
  if (seccompRefused) watch.notApplied['aslr'] = seccompRefused;
  const started = Date.now();
  const result = await engine.runContainer({
    image: input.image.id,
    // A refused profile: setarch -R is not tried, and the engine's reason is the record.
    cmd: containerCommand(input.board, seccompRefused ? { ...v, aslr: true } : v),
    ...(v.aslr || seccompRefused ? {} : { securityOpt: ASLR_SECURITY_OPT }),
    env: runEnv(input),
    user: `${v.uid}:${v.uid}`,
    workingDir: '/build',
    hostname: v.hostname,
    domainname: v.domain,
    ...(v.cpus > 0 ? { cpusetCpus: v.cpus === 1 ? '0' : `0-${v.cpus - 1}` } : {}),
    runId: input.runId,
    labels: { 'reprorom.board': input.boardName, 'reprorom.index': String(input.index) },
    network: 'none',
    memoryBytes: input.board.limits.memory,
    pidsLimit: input.board.limits.pids,
    ...limitSpec(input.board.limits, readdirTmpfs(input)),
    signal,
    stdin: transfer.stdin,
    stdout: transfer.channel,
    onStderrLine: watch.lineTo,
    beforeStart: async (id) => transfer.created(id),
    afterExit: async (_id, exitCode) => {
      copied = await transfer.finish(exitCode);
    },
  });
  const durationMs = Date.now() - started;
  return { exitCode: result.exitCode, oomKilled: result.oomKilled, copied, durationMs };
}

/** A run that did not end with its artifacts fails here, named by its most likely cause. */
function judgeExit(input: BoardRunInput, result: ContainerRun, watch: OutputWatch): void {
  const { disk } = input.board.limits;
  const { refused } = watch;
  if (result.oomKilled) {
    const mib = Math.round(input.board.limits.memory / 1024 / 1024);
    throw new BuildFailedError(
      `board ${input.boardName} run ${input.index} exceeded its memory limit of ${mib} MiB and was killed`,
      `raise limits.memory in boards/${input.boardName}.yaml if the build really needs more; log: ${input.log.path}`,
    );
  }
  if (result.exitCode !== 0 && watch.diskFull && disk !== undefined) {
    throw new BuildFailedError(
      `board ${input.boardName} run ${input.index} exceeded its disk limit of ${Math.round(disk / 1024 / 1024)} MiB (no space left in /build or /tmp) and failed with exit code ${result.exitCode}`,
      `raise limits.disk in boards/${input.boardName}.yaml if the build really writes more; log: ${input.log.path}`,
    );
  }
  if (result.exitCode !== 0 && watch.forkFailed) {
    throw new BuildFailedError(
      `board ${input.boardName} run ${input.index} hit its pids limit of ${input.board.limits.pids} (fork failed) and exited with code ${result.exitCode}`,
      `raise limits.pids in boards/${input.boardName}.yaml if the build really needs more processes; log: ${input.log.path}`,
    );
  }
  if (result.exitCode === ARTIFACTS_REFUSED_EXIT && refused.length > 0) {
    throw new BuildFailedError(
      `board ${input.boardName} run ${input.index}: ${refused.length === 1 ? 'a declared artifact was' : 'declared artifacts were'} refused: ${refused.map(describeRefusal).join('; ')}`,
      `artifacts must be regular files (links are refused, not followed) with printable names, and each path or glob must match; list one that may match nothing under optionalArtifacts in boards/${input.boardName}.yaml; log: ${input.log.path}`,
    );
  }
  if (result.exitCode !== 0) {
    throw new BuildFailedError(
      `board ${input.boardName} run ${input.index} failed with exit code ${result.exitCode}`,
      `see the log: ${input.log.path} ("Resource temporarily unavailable" there means the pids limit of ${input.board.limits.pids} was reached)`,
    );
  }
  if (result.copied.length === 0) {
    throw new BuildFailedError(
      `board ${input.boardName} run ${input.index} produced none of its artifacts (${input.board.artifacts.join(', ')})`,
      'check the artifact paths in the board file against the build output in the log',
    );
  }
}

/** The run's manifest.json: everything that went into its bytes, and what came out. */
function runManifest(
  input: BoardRunInput,
  result: ContainerRun,
  notApplied: Record<string, string>,
): ManifestInput {
  const v = input.variation;
  return {
    schema: 'reprorom.manifest/v1',
    tool: { name: 'reprorom', version: toolVersion() },
    board: input.boardName,
    run: {
      id: input.runId,
      index: input.index,
      ...(input.machine ? { machine: input.machine } : {}),
      ...(input.culpritSearch ? { culpritSearch: input.culpritSearch } : {}),
    },
    source: input.sourceInfo,
    pin: input.pin,
    extraPins: input.extraPins,
    image: input.image,
    commands: input.board.commands,
    env: runEnv(input),
    sourceDateEpoch: input.sourceDateEpoch,
    variations: {
      ...v,
      ...(input.vary && Object.keys(input.vary.off).length > 0 ? { off: definedOnly(input.vary.off) } : {}),
      ...(Object.keys(notApplied).length > 0 ? { notApplied } : {}),
    },
    inputs: (input.inputs ?? []).map((i) => i.record),
    sandbox: { masked: [...MASKED_PATHS], readOnly: [...READONLY_PATHS] },
    artifacts: result.copied.map((a) => ({ path: a.path, sha256: a.sha256, size: a.size })),
    durationMs: result.durationMs,
    exitCode: result.exitCode,
    result: 'ok',
  };
}

/** A time limit named as such; an interrupt is not the board's failure; anything else carries the run's last lines. */
function boardFailure(input: BoardRunInput, err: unknown, tail: LogTail): unknown {
  const failure =
    err instanceof ContainerTimeoutError
      ? new BuildFailedError(
          `board ${input.boardName} run ${input.index} exceeded its time limit of ${input.board.limits.time} s and was stopped`,
          `raise limits.time in boards/${input.boardName}.yaml if the build really takes longer, or look for a hang in the log: ${input.log.path}`,
        )
      : err;
  if (failure instanceof BuildFailedError && !input.signal?.aborted)
    return new BoardRunError(failure, tail.get());
  return failure;
}

/** Plan-time reasons (e.g. one CPU) for the variations this run changes. */
function planNotApplied(input: Pick<BoardRunInput, 'vary'>): Record<string, string> {
  return definedOnly(input.vary?.notApplied ?? {});
}

/**
 * The readdir order varies only on a tmpfs (overlayfs and ext4 list by name hash): with the
 * fileordering variation on, every run of the board builds in a tmpfs /build, where entries
 * are listed in (reverse) creation order, and the runs create them in different orders.
 */
function readdirTmpfs(input: Pick<BoardRunInput, 'vary'>): boolean {
  return input.vary?.on.includes('fileordering') ?? false;
}

function definedOnly(record: Partial<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter((e): e is [string, string] => e[1] !== undefined));
}

/** `/build/variant/path/src` → `variant/path/src` (the tar's prefix). */
function relativeToBuild(path: string): string {
  return path.startsWith(`${BUILD_DIR}/`) ? path.slice(BUILD_DIR.length + 1) : 'src';
}

/** `a/b/src` → `a`, `a/b`: folders the tar creates before the source, owned by the build user. */
function parentsOf(rel: string): string[] {
  const parts = rel.split('/').slice(0, -1);
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** Size of /build when only the readdir variation asks for a tmpfs: a cap, not a reservation. */
const READDIR_TMPFS_BYTES = 16 * 1024 ** 3;

/**
 * The board's disk and time limits as container settings. A disk limit makes /build (where
 * the source goes) and /tmp tmpfs of that size and everything else read-only, so nothing
 * the build writes reaches the host's disk unbounded. Without one, the fileordering
 * variation still makes /build a tmpfs (its size counts against the memory limit).
 */
function limitSpec(
  limits: Board['limits'],
  tmpfsBuild: boolean,
): Pick<RunSpec, 'tmpfs' | 'readOnlyRootfs' | 'timeoutMs'> {
  const tmpfs = (size: number) => `rw,exec,mode=1777,size=${size}`;
  return {
    ...(limits.disk !== undefined
      ? { tmpfs: { '/build': tmpfs(limits.disk), '/tmp': tmpfs(limits.disk) }, readOnlyRootfs: true }
      : tmpfsBuild
        ? { tmpfs: { '/build': tmpfs(READDIR_TMPFS_BYTES) } }
        : {}),
    ...(limits.time !== undefined ? { timeoutMs: limits.time * 1000 } : {}),
  };
}
