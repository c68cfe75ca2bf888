/**
 * Why a `--json` output failed: the error object every kind carries, and the failure-only shape.
 * Part of the contract in json.ts (its header says what every output promises).
 */
/** Why a command failed: a stable code, the exit code, and what to do next. */
export interface ErrorJson {
  /** Stable identifier of the kind of failure; match on this, not on the message. */
  code: ErrorCodeJson;
  /** The process's exit code (1 mismatch, 2 usage or configuration, 3 environment, 4 build failed, 130 interrupted). */
  exitCode: number;
  /** One line (or one line per problem) a person reads. */
  message: string;
  /** What the user should do next, when reprorom knows. */
  hint: string | null;
  /** Configuration problems with their file positions (code "config"). */
  problems?: ProblemJson[];
}

export type ErrorCodeJson =
  /** Artifacts differ, a verification failed, or nothing was compared. */
  | 'mismatch'
  /** A bad argument or flag. */
  | 'usage'
  /** A workspace, manifest or input file is invalid (see `problems`). */
  | 'config'
  /** The machine lacks something (engine, nix, disk space, permission). */
  | 'environment'
  /** The Docker engine cannot be reached. */
  | 'engine-unavailable'
  /** A board build, a boot check or an image build failed. */
  | 'build-failed'
  /** Stopped by a signal. */
  | 'interrupted'
  /** A bug in reprorom. */
  | 'internal';

/** A position-bearing problem in a file. Lines and columns are 1-based. */
export interface ProblemJson {
  file: string;
  line: number;
  col: number;
  message: string;
}

/** What every `--json` output holds when the command could not produce its result. */
export interface FailureJson<S extends string> {
  /** The output kind and version, the same as the command's successful output. */
  schema: S;
  ok: false;
  error: ErrorJson;
}
