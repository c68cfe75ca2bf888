/**
 * `compare --json`, and the comparison that `build`, `release` and `verify` embed.
 * Part of the contract in json.ts (its header says what every output promises).
 */
import type { ErrorJson } from './failureJson.js';

export type VerdictJson = 'reproducible' | 'mismatch' | 'missing' | 'single-run';

export interface ComparedArtifactJson {
  /** Display name: the artifact, prefixed with its board when several boards are compared. */
  name: string;
  /** The artifact: its file name, or its path below artifacts/ when two names collide. */
  key: string;
  /** The board the artifact belongs to, when an input names one. */
  board: string | null;
  verdict: VerdictJson;
  /** Each compared input's sha256 of this artifact (null when it lacks it), keyed by the input's `id`. */
  hashes: Record<string, string | null>;
  /** The `id`s of the inputs that differ from the majority (mismatch) or lack the artifact (missing). */
  disagreeing: string[];
  /** The hash most inputs agree on; ties go to the earliest input. */
  majority: string | null;
  /** Set on a mismatch the board declares expected (`expectMismatch`): the declared reason. */
  expectedMismatch?: string;
  /**
   * Set by `build` and `release`: the variations that really differed between the board's runs
   * (e.g. `["time", "umask"]`). Empty: nothing was varied (`--no-vary all`), so agreeing runs show
   * only that the build repeats in one environment; text output says "reproducible (nothing varied)".
   */
  varied?: string[];
  /**
   * A cpio archive whose members the inputs list (Heads' `-----` blocks), when not reproducible:
   * the members that differ, with each listing input's hash (null when it lacks the member).
   */
  members?: Array<{ name: string; verdict: 'mismatch' | 'missing'; hashes: Record<string, string | null> }>;
}

export interface ComparedInputJson {
  /**
   * Stable key of this input in `hashes` and `disagreeing`: `RUN/BOARD#N` (with `@MACHINE` when
   * the machine is named) for a board run, the absolute path of the file otherwise.
   */
  id: string;
  /** How text output names the input (may be relative to the current folder). */
  label: string;
  /** The file the hashes were read from. */
  source: string;
  format: 'manifest' | 'hashes.txt' | 'heads';
  board: string | null;
  /** The board run, when the input is one (a run folder or manifest.json). */
  run: { id: string; index: number; machine: string | null } | null;
}

export interface DiffReportJson {
  artifact: string;
  /** `id` of the input on the majority side. */
  a: string;
  /** `id` of the disagreeing input. */
  b: string;
  tool: 'diffoscope' | 'builtin';
  /** The text report's path. */
  text: string;
  /** The HTML report's path (diffoscope only). */
  html: string | null;
  note: string | null;
  /** When both artifacts are cpio archives (an initrd): the members that differ, contents first. */
  members?: Array<{
    /** The member's path in the archive, as `./init`. */
    name: string;
    change: 'content' | 'only in A' | 'only in B' | 'metadata';
    detail: string;
  }>;
  /**
   * Dates and times found in the printable strings only one side has, that changed between the
   * two (a build time stamp, such as `Wed Dec  2 16:23:05 UTC 2026` or `20261202_162305`).
   */
  stamps?: {
    /** As they appear in the artifact of input `a`. */
    a: string[];
    /** As they appear in the artifact of input `b`. */
    b: string[];
  };
}

/** A comparison of inputs: one row per board × artifact. */
export interface ComparisonJson {
  ok: boolean;
  inputs: ComparedInputJson[];
  artifacts: ComparedArtifactJson[];
  notes: string[];
  /** Inputs (arguments) that share no board or artifact with any other input (then `ok` is false). */
  unrelated: string[];
  reports: DiffReportJson[];
  /** Boards declared expected to mismatch whose artifacts all reproduced in this comparison. */
  newlyReproducible?: Array<{ board: string; reason: string }>;
  /** When expected mismatches were applied: every artifact reproducible or an expected mismatch. */
  okExceptExpected?: boolean;
}

/** `reprorom compare --json`. */
export interface CompareJson extends ComparisonJson {
  schema: 'reprorom.compare/v1';
  /** Present when `ok` is false. */
  error?: ErrorJson;
}
