/** The values a culprit search passes between its phases, and the result it gives. */
import type { PlannedBoard, PlannedRun } from '../plan/plan.js';
import type { VariationName } from '../plan/variations.js';

/** A varied name of one board, with the run its value comes from. */
export interface Suspect {
  board: string;
  name: VariationName;
  run: PlannedRun;
}

/**
 * The folder inside a build's run folder that holds its culprit search's reruns. Not a board
 * name (those start with a letter or digit), so nothing that lists a run folder's boards (merge,
 * compare, the Action's newest run folder) takes the reruns for runs of the build.
 */
export const CULPRIT_SEARCH_DIR = '_culprit-search';

export type CulpritVerdict =
  /** One or more single variations reproduce the difference: they are named. */
  | 'variation'
  /** No single variation does, and the reference repeated gives the same bytes. */
  | 'combination'
  /** The reference environment repeated gives different bytes, even with the clock frozen: nothing varied is needed. */
  | 'nondeterministic'
  /** An input (another board's artifact) differed between the runs: that input is named, nothing is rebuilt. */
  | 'input'
  /** The extra runs failed, so nothing could be concluded. */
  | 'unknown';

export interface ArtifactCulprit {
  board: string;
  /** The artifact's path in the run's manifest, e.g. artifacts/out/bios.bin. */
  artifact: string;
  verdict: CulpritVerdict;
  /** Variation names whose change alone reproduces the difference. */
  culprits: string[];
}

export interface CulpritSearch {
  /** The run folders of the extra runs (the reference repeated, with a frozen clock if needed, then single variations). */
  runDirs: string[];
  extraRuns: number;
  artifacts: ArtifactCulprit[];
}

export type Hashes = Map<string, string>;

/** A board whose runs disagree with its reference run, and the runs that isolate each varied name. */
export interface Target {
  planned: PlannedBoard;
  against: PlannedRun[];
  reference: Hashes;
  referenceDir: string | undefined;
  artifacts: string[];
  runs: PlannedRun[];
  names: Array<VariationName | 'reference'>;
}

/** Runs the given runs of each target as one plan; per board, their hashes in the order given. */
export type Rerun = (pick: (t: Target) => PlannedRun[]) => Promise<Map<string, Array<Hashes | undefined>>>;
