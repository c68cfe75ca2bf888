/**
 * What executing a plan takes and gives back: the options, and each board's and run's
 * outcome (execute.ts runs the plan; runOne.ts fills these in).
 */
import type { BootJson } from '../contracts/json.js';
import type { Engine } from '../engine/port.js';
import type { ImagePreparer } from '../imagebuild/prepare.js';
import type { Variation, VariationChoice } from '../plan/variations.js';
import type { ProgressListener } from './progress.js';

export interface ExecuteOptions {
  /** Default: the engine DOCKER_HOST names (or the local socket). */
  engine?: Engine;
  signal?: AbortSignal;
  /** How images are made ready; default: from the cache or built, then loaded. */
  prepareImage?: ImagePreparer;
  /** How long to wait for another build of the same workspace (default 30 min). */
  lockWaitMs?: number;
  /** Progress as typed events (the CLI renders them). */
  onProgress?: ProgressListener;
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
  /**
   * The store of producer runs (`build --store`). Runs of `restore` boards (producers this build
   * pulled in, not ones it was asked to build) are taken from it when an entry matches; runs of
   * `save` boards (every board that feeds another) are kept in it once built. `release` and
   * `verify` never pass one: they always rebuild.
   */
  store?: { dir: string; restore: ReadonlySet<string>; save: ReadonlySet<string> };
}

export interface RunOutcome {
  index: number;
  ok: boolean;
  durationMs?: number;
  boot?: BootJson;
  outDir?: string;
  error?: string;
  exitCode?: number;
  /** A failed run's last lines of output. */
  logTail?: string[];
  variations: string[];
  variation: Variation;
  /** Variations this run should have applied but could not (the plan's and the container's reasons). */
  notApplied?: Partial<Record<string, string>>;
  /** Restored from the store under this key, not built here. */
  restored?: { key: string };
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
