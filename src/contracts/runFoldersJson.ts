/**
 * `merge` and `report --json` (run folders, and the attestation history).
 * Part of the contract in json.ts (its header says what every output promises).
 */
import type { ErrorJson } from './failureJson.js';

export interface MergedRunJson {
  board: string;
  /** Its number in the merged folder. */
  index: number;
  /** The argument it came from. */
  input: string;
  runId: string;
  originalIndex: number;
  machine: string | null;
  /** The build log, relative to the merged folder, when the input had one. */
  log: string | null;
}

/** `reprorom merge RUN… --out DIR --json`. */
export interface MergeJson {
  schema: 'reprorom.merge/v1';
  ok: true;
  out: string;
  runs: MergedRunJson[];
  notes: string[];
}

/** `reprorom report RUN… --html FILE --json`. */
export interface ReportJson {
  schema: 'reprorom.report/v1';
  /** False when the compared runs disagree (exit 1; the page is written all the same). */
  ok: boolean;
  error?: ErrorJson;
  /** The HTML page written. */
  html: string;
  /** The text diff reports kept as files: only with `--diff-dir` (otherwise they are in the page). */
  reports: string[];
}

/** One trusted rebuild of a ROM in the attestation history. */
export interface HistoryRebuildJson {
  builderId: string;
  /** When the rebuilder says it rebuilt (the predicate's `time`). */
  time: string;
  /** Same bytes as the release expects, other bytes, or a failed rebuild. */
  verdict: 'same' | 'different' | 'failed';
  /** The sha256 it rebuilt; null when the rebuild failed. */
  rebuilt: string | null;
  /** The attestation file it came from. */
  file: string;
}

/**
 * `reprorom report --attestations DIR --trust FILE --html FILE --json`: per release (its
 * manifest sha256) and ROM, which trusted rebuilders agreed, differed or failed, and when.
 * Printed by the `report` command, so it is one of the `report` kind's documents.
 */
export interface AttestationHistoryJson {
  schema: 'reprorom.attestation-history/v1';
  ok: true;
  /** The HTML page written. */
  html: string;
  /** The builder ids the trust file names. */
  trusted: string[];
  releases: Array<{
    manifestSha256: string;
    roms: Array<{ rom: string; expected: string; rebuilds: HistoryRebuildJson[] }>;
  }>;
  /** Attestations left out (untrusted, unsigned, malformed, contradicting), each with its reason. */
  notShown: Array<{ file: string; reason: string }>;
}
