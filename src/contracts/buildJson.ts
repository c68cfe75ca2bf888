/**
 * `build --json` and `boot --json`: runs, boards, boots and culprit searches.
 * Part of the contract in json.ts (its header says what every output promises).
 */
import type { ComparisonJson } from './compareJson.js';
import type { ErrorJson } from './failureJson.js';

export interface BootJson {
  ok: boolean;
  artifact: string;
  matched: string | null;
  durationMs: number;
  log: string;
  message: string;
}

export interface RunJson {
  index: number;
  ok: boolean;
  dir: string | null;
  error: string | null;
  durationMs: number | null;
  variations: string[];
  variation: Record<string, string | number | boolean>;
  /** Variations this run should have applied but could not here, with the reason. */
  notApplied: Record<string, string>;
  boot?: BootJson;
  /** A failed run's last lines of output (its compiler error, usually). */
  logTail?: string[];
  /** Restored from the store (`build --store`) under this key, not built by this build. */
  restored?: { key: string };
}

export interface BoardJson {
  board: string;
  image: { name: string; id: string };
  sourceHash: string | null;
  log: string;
  /** The variations its runs use, and those turned off with the reason (nothing is off silently). */
  vary: { on: string[]; off: Record<string, string>; notApplied: Record<string, string> };
  runs: RunJson[];
}

/** `reprorom build --json`. */
export interface BuildReportJson {
  schema: 'reprorom.build/v1';
  /** False when a run or boot check failed, or the runs of a board disagree. */
  ok: boolean;
  /** Present when `ok` is false. */
  error?: ErrorJson;
  runId: string;
  runDir: string;
  shard: { index: number; count: number } | null;
  boards: BoardJson[];
  comparison: ComparisonJson | null;
  /** After a mismatch: which variation alone reproduces each differing artifact. */
  culprits: CulpritSearchJson | null;
}

export interface CulpritJson {
  board: string;
  artifact: string;
  /**
   * `input`: an input (another board's artifact) differed between the runs; `culprits` names it.
   * `variation` with `time` among the culprits may also mean the wall clock: two reference runs
   * differed and two runs with a frozen clock agreed. `nondeterministic`: even those differed.
   */
  verdict: 'variation' | 'combination' | 'nondeterministic' | 'input' | 'unknown';
  culprits: string[];
}

export interface CulpritSearchJson {
  runDirs: string[];
  extraRuns: number;
  artifacts: CulpritJson[];
}

export interface BootRunJson extends BootJson {
  /** The run id (folder name under .reprorom/runs). */
  run: string;
  /** The board run's number. */
  index: number;
}

/** `reprorom boot BOARD [RUN] --json`. */
export interface BootCommandJson {
  schema: 'reprorom.boot/v1';
  ok: boolean;
  error?: ErrorJson;
  board: string;
  boots: BootRunJson[];
}
