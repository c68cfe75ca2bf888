/**
 * The compare model: what an input holds (HashSet) and what a comparison found (Comparison).
 * Plain values with explicit fields; the loaders (inputs.ts) and the verdict algorithm
 * (compare.ts, packedCompare.ts) both import it, and neither imports the other.
 */
import type { HeadsMember } from '../hashes/heads.js';
import { type PackedHashes, unpackHashes } from '../hashes/packed.js';

export type InputFormat = 'manifest' | 'hashes.txt' | 'heads';

export interface ArtifactHash {
  /** Comparison key: the file name, or the path below artifacts/ when two names collide. */
  key: string;
  /** The path as recorded. */
  path: string;
  sha256: string;
  /** The hash the manifest recorded, when the file on disk no longer matches it. */
  recorded?: string;
  /** The file on this machine, when it exists (for diff reports). */
  file?: string;
  /** Files inside a cpio archive (Heads). */
  members?: HeadsMember[];
}

/**
 * What a set lists: its artifacts as objects (with their map by key when loading built one), or
 * a packed list (a large plain hashes.txt with no local copies), whose rows become objects only
 * when `artifactsOf` is asked.
 */
export type SetRows =
  | { kind: 'listed'; artifacts: ArtifactHash[]; byKey: Map<string, ArtifactHash> | undefined }
  | { kind: 'packed'; packed: PackedHashes };

export interface HashSet {
  label: string;
  /** The file the hashes were read from. */
  source: string;
  format: InputFormat;
  board: string | undefined;
  /**
   * True when the set lists exactly a board's declared artifacts (reprorom); false for
   * Heads lists, whose extra intermediate files are not expected elsewhere.
   */
  complete: boolean;
  rows: SetRows;
  notes: string[];
  /** The folder holding the manifest, where diff reports go by default. */
  manifestDir: string | undefined;
  /** The compare argument it came from (a run folder yields several sets). */
  input?: string;
  /** Which run this is (`RUN/BOARD#N@MACHINE`), when a manifest says so. */
  run?: string;
  /** A culprit search's rerun (its manifest's `run.culpritSearch`): left out unless asked for. */
  culpritRerun?: boolean;
  /** What the run was built from (pins, image, source, commands), when a manifest says so. */
  buildInputs?: Record<string, string>;
}

/** A set's artifacts as objects (made from a packed list on each call: ask once). */
export function artifactsOf(set: HashSet): ArtifactHash[] {
  return set.rows.kind === 'listed' ? set.rows.artifacts : unpackHashes(set.rows.packed);
}

/** A set's artifacts by key: the map loading built, or one made now. Ask once per use. */
export function byKeyOf(set: HashSet): Map<string, ArtifactHash> {
  if (set.rows.kind === 'listed' && set.rows.byKey) return set.rows.byKey;
  return new Map(artifactsOf(set).map((a) => [a.key, a]));
}

export type Verdict = 'reproducible' | 'mismatch' | 'missing' | 'single-run';

export interface ArtifactResult {
  /** The artifact's file name, prefixed with its board when several boards are compared. */
  name: string;
  /** The key inputs are matched on (the file name, or its path when names collide). */
  key: string;
  board: string | undefined;
  verdict: Verdict;
  /** Each input of the artifact's group: its sha256, or null when it lacks the artifact. */
  hashes: Record<string, string | null>;
  /** Inputs that differ from the majority (mismatch) or lack the artifact (missing). */
  disagreeing: string[];
  /** The hash most inputs agree on; ties go to the earliest input. */
  majority: string | undefined;
  /**
   * For a cpio archive whose inputs list its members (Heads' `-----` blocks) and that is not
   * reproducible: the members that differ, each with every input's hash (null when absent).
   */
  members?: MemberResult[];
}

export interface MemberResult {
  /** The member's path inside the archive, as listed (`./init`). */
  name: string;
  verdict: 'mismatch' | 'missing';
  hashes: Record<string, string | null>;
}

export interface ComparedInput {
  label: string;
  source: string;
  format: InputFormat;
  board: string | undefined;
  /** `RUN/BOARD#N@MACHINE` when the input is a board run. */
  run: string | undefined;
}

/**
 * Every row of a comparison: made (small comparisons), or kept as the packed lists they come
 * from, whose reproducible rows are made only by `allArtifacts` (`--json`, reports).
 */
export type ComparedRows =
  | { kind: 'made'; artifacts: ArtifactResult[] }
  | { kind: 'packed'; lists: PackedHashes[]; labels: string[] };

export interface Comparison {
  ok: boolean;
  inputs: ComparedInput[];
  /** How many artifacts (rows) were compared. */
  count: number;
  /** The rows that are not reproducible, in row order: what the table, problems and summary read. */
  problems: ArtifactResult[];
  rows: ComparedRows;
  notes: string[];
  /**
   * Inputs (arguments) that share no compared artifact with any other input: their runs were
   * only compared among themselves, so the inputs were not compared with each other at all.
   */
  unrelated: string[];
}

/** What a comparison says of each input it read. */
export function comparedInput(s: HashSet): ComparedInput {
  return { label: s.label, source: s.source, format: s.format, board: s.board, run: s.run };
}
