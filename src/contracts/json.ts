/**
 * The versioned JSON shapes reprorom publishes (`--json`, JUnit, GitHub summaries, the
 * HTML report and release checks all read these). Plain types with no imports, so any
 * layer may depend on them and none drags another layer in.
 */

export type VerdictJson = 'reproducible' | 'mismatch' | 'missing' | 'single-run';

export interface ComparedArtifactJson {
  name: string;
  key: string;
  board: string | null;
  verdict: VerdictJson;
  hashes: Record<string, string | null>;
  disagreeing: string[];
  majority: string | null;
  /** Set on a mismatch the board declares expected (`expectMismatch`): the declared reason. */
  expectedMismatch?: string;
}

export interface DiffReportJson {
  artifact: string;
  a: string;
  b: string;
  tool: 'diffoscope' | 'builtin';
  text: string;
  html: string | null;
  note: string | null;
}

export interface ComparisonJson {
  ok: boolean;
  inputs: Array<{ label: string; source: string; format: string; board: string | undefined }>;
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
  variation: Record<string, string | number>;
  boot?: BootJson;
  /** A failed run's last lines of output (its compiler error, usually). */
  logTail?: string[];
}

export interface BoardJson {
  board: string;
  image: { name: string; id: string };
  sourceHash: string | null;
  log: string;
  runs: RunJson[];
}

export interface BuildReportJson {
  schema: 'reprorom.build/v1';
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
  verdict: 'variation' | 'combination' | 'nondeterministic' | 'unknown';
  culprits: string[];
}

export interface CulpritSearchJson {
  runDirs: string[];
  extraRuns: number;
  artifacts: CulpritJson[];
}
