/**
 * The versioned JSON shapes reprorom publishes (`--json`, JUnit, GitHub summaries, the
 * HTML report and release checks all read these). Plain types with no imports, so any
 * layer may depend on them and none drags another layer in.
 *
 * The contract: every `--json` output is one object `{ "schema": "reprorom.<kind>/v1",
 * "ok": …, … }` on stdout, also when the command fails. When `ok` is false, `error` says
 * why, with the process's exit code. When the command could not produce its result at all
 * (a usage or configuration error, a missing engine…), the object holds only `schema`,
 * `ok: false` and `error` ({@link FailureJson}).
 *
 * The JSON Schemas in schemas/output/ are generated from these types (`npm run schemas`);
 * test/unit/json-schemas.test.ts fails when they drift. Change a shape here, then run it.
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

// ───────────────────────────── compare (also inside build, release, verify) ─────────────────────────────

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

// ───────────────────────────── build ─────────────────────────────

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

// ───────────────────────────── the other commands ─────────────────────────────

/** `reprorom check --json`. */
export interface CheckJson {
  schema: 'reprorom.check/v1';
  ok: boolean;
  error?: ErrorJson;
  /** Workspace files read. */
  files: number;
  pins: string[];
  images: string[];
  boards: string[];
  problems: ProblemJson[];
}

export interface DoctorCheckJson {
  name: string;
  ok: boolean;
  /** A failed required check makes the machine unable to build (exit 3); others are warnings. */
  required: boolean;
  version?: string;
  detail: string;
  /** The exact command that installs or starts the missing piece. */
  fix?: string;
}

/** `reprorom doctor --json`. */
export interface DoctorJson {
  schema: 'reprorom.doctor/v1';
  /** False when a required check failed. */
  ok: boolean;
  error?: ErrorJson;
  checks: DoctorCheckJson[];
}

/** `reprorom pin lock NAME --json`. */
export interface PinLockJson {
  schema: 'reprorom.pin-lock/v1';
  ok: true;
  name: string;
  /** The pin file written. */
  file: string;
  flake: string;
  narHash: string;
  /** False when the pin already held this flake reference and hash. */
  changed: boolean;
}

export interface PinVerifyRowJson {
  pin: string;
  /** The narHash the pin file records. */
  expected: string;
  /** The narHash of the content now (absent when it could not be fetched). */
  actual?: string;
  ok: boolean;
  /** Why the content could not be fetched. */
  error?: string;
}

/** `reprorom pin verify [NAME] --json`. */
export interface PinVerifyJson {
  schema: 'reprorom.pin-verify/v1';
  ok: boolean;
  error?: ErrorJson;
  pins: PinVerifyRowJson[];
}

/** `reprorom pin fetch NAME --json`. */
export interface PinFetchJson {
  schema: 'reprorom.pin-fetch/v1';
  ok: true;
  /** The download cache folder. */
  cache: string;
  debs: number;
  downloaded: string[];
  /** Cached packages whose hash was wrong and that were downloaded again. */
  healed: Array<{ name: string; expected: string; actual: string }>;
  /** Store paths added to the nix store. */
  seeded: number;
  /** The bootstrap busybox's store path. */
  busybox: string;
  seconds: number;
}

/** `reprorom image build NAME --json`. */
export interface ImageBuildJson {
  schema: 'reprorom.image-build/v1';
  ok: true;
  image: string;
  /** The image ID (sha256 of its config). */
  id: string;
  layers: number;
  /** True when the image came from the cache. */
  cached: boolean;
  tag: string;
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

export interface ReleasedArtifactJson {
  board: string;
  /** Path inside the release folder. */
  path: string;
  sha256: string;
  size: number;
}

/**
 * `reprorom release BOARD… --out DIR --json`. (The release folder's own manifest.json is a
 * different document, `reprorom.release/v1`, described by schemas/release-manifest.schema.json.)
 */
export interface ReleaseJson {
  schema: 'reprorom.release-result/v1';
  ok: boolean;
  error?: ErrorJson;
  /** The release folder, or null when nothing was written. */
  out: string | null;
  /** The release folder's manifest.json, or null when nothing was written. */
  manifest: string | null;
  runDir: string;
  artifacts: ReleasedArtifactJson[];
  /** What the varied runs did not reproduce, e.g. `rom.bin (mismatch)`. */
  notReproducible: string[];
  comparison: ComparisonJson;
}

/** `reprorom sign DIR --json`. */
export interface SignJson {
  schema: 'reprorom.sign/v1';
  ok: true;
  format: 'ssh' | 'gpg';
  /** The files signed. */
  files: string[];
  /** The detached signatures written. */
  signatures: string[];
  /** The DSSE envelopes written (`BOARD/provenance.intoto.jsonl`; OpenSSH ed25519 keys only). */
  envelopes: string[];
  /** Why no envelope was written, when the release has provenance but the key cannot sign one. */
  envelopesSkipped?: string;
}

export interface CheckResultJson {
  name: string;
  ok: boolean;
  message: string;
}

export interface VerifiedArtifactJson {
  name: string;
  verdict: string;
  /** The hash the release publishes. */
  release: string | null;
  /** The hash of the rebuilt artifact. */
  rebuilt: string | null;
}

/** `reprorom verify RELEASE --json`. */
export interface VerifyJson {
  schema: 'reprorom.verify/v1';
  ok: boolean;
  error?: ErrorJson;
  mode: 'release' | 'heads';
  /** False for `verify --no-rebuild`: signatures and hashes only, nothing was built. */
  rebuilt: boolean;
  release: string;
  signature: {
    ok: boolean;
    key: string;
    files: Array<{ file: string; signature: string; ok: boolean; message: string }>;
  } | null;
  integrity: CheckResultJson[];
  boards: Array<{
    board: string;
    checks: CheckResultJson[];
    runDir: string | null;
    artifacts: VerifiedArtifactJson[];
    comparison: ComparisonJson | null;
  }>;
  notes: string[];
  /** `verify --attestations --trust --threshold`: how many trusted rebuilders agree per ROM. */
  attestations?: AttestationCountJson;
}

/** The k-of-n count of rebuilders' attestations (docs/attestation-v1.md). */
export interface AttestationCountJson {
  /** The trust file. */
  trust: string;
  /** How many rebuilders it trusts (n). */
  trusted: number;
  threshold: number;
  /** True only with --allow-disagreement: a trusted rebuilder that attests other bytes then does not fail a ROM. */
  allowDisagreement: boolean;
  /** --max-age as given, or null. */
  maxAge: string | null;
  /** The release as attested: sha256 of its manifest.json. */
  manifestSha256: string;
  roms: Array<{
    rom: string;
    /** The release's sha256 of it. */
    sha256: string;
    accepted: boolean;
    /** Builder ids of the trusted rebuilders that attest exactly this sha256. */
    agreeing: string[];
    /** Trusted rebuilders that attest other bytes for it. */
    disagreeing: Array<{ builderId: string; sha256: string }>;
  }>;
  /** Every attestation read; `reason` says why one does not count. */
  attestations: Array<{
    file: string;
    builderId: string | null;
    keyid: string | null;
    time: string | null;
    counted: boolean;
    reason: string | null;
  }>;
}

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

// ───────────────────────────── list ─────────────────────────────

/** Where a listed board's source comes from, in one line (`local src/x`, `git URL@COMMIT`, …). */
export interface ListedSourceJson {
  type: 'local' | 'git' | 'tarball' | 'debian-source';
  /** The same source as a person reads it. */
  summary: string;
}

/** One input a listed board takes, placed at `path` in its source tree. */
export interface ListedInputJson {
  type: 'board' | 'url' | 'debian';
  path: string;
  /** `board B:ARTIFACT`, `url URL`, `debian PACKAGE VERSION ARCH`. */
  summary: string;
}

export interface ListedBoardJson {
  name: string;
  /** The board file, relative to the workspace. */
  file: string;
  description: string | null;
  image: string;
  source: ListedSourceJson;
  inputs: ListedInputJson[];
  artifacts: string[];
  /** False: `build --all` leaves it out (built by name only). */
  all: boolean;
  /** Why the board is declared not reproducible yet, or null. */
  expectMismatch: string | null;
  /** Whether the board has a boot check. */
  boot: boolean;
}

/** `reprorom list --json`: the boards of the workspace. */
export interface ListJson {
  schema: 'reprorom.list/v1';
  ok: true;
  workspace: string;
  boards: ListedBoardJson[];
}

// ───────────────────────────── init ─────────────────────────────

/** `reprorom init --json`: a first workspace written into an existing repository. */
export interface InitJson {
  schema: 'reprorom.init/v1';
  ok: true;
  workspace: string;
  /** The board written (boards/BOARD.yaml). */
  board: string;
  /** Files written, relative to the workspace. */
  written: string[];
  /** Files that were already there with exactly this content (never overwritten). */
  kept: string[];
  /** The next command to run. */
  next: string;
}

// ───────────────────────────── ci, schemas ─────────────────────────────

/** `reprorom ci github|circleci --json`. */
export interface CiJson {
  schema: 'reprorom.ci/v1';
  ok: true;
  system: 'github' | 'circleci';
  /** The file written, or null with `--stdout`. */
  file: string | null;
  /** False when the file already held exactly this text (nothing was written). */
  written: boolean;
  /** The branch whose pushes run the workflow; null: every branch (CircleCI without `--branch`). */
  branch: string | null;
  /** The workflow's text: only with `--stdout`. */
  text?: string;
  /** Advice printed on stderr too (e.g. a container not pinned by digest). */
  warnings: string[];
}

/** `reprorom schemas --json`. */
export interface SchemasJson {
  schema: 'reprorom.schemas/v1';
  ok: true;
  /** The JSON Schema files written. */
  files: string[];
}

// ───────────────────────────── every output kind ─────────────────────────────

/**
 * Each command's `--json` output: its result or a failure. The key is the kind in
 * `reprorom.<kind>/v1` (and the file name in schemas/output/).
 */
export interface JsonOutputs {
  check: CheckJson | FailureJson<'reprorom.check/v1'>;
  doctor: DoctorJson | FailureJson<'reprorom.doctor/v1'>;
  'pin-lock': PinLockJson | FailureJson<'reprorom.pin-lock/v1'>;
  'pin-verify': PinVerifyJson | FailureJson<'reprorom.pin-verify/v1'>;
  'pin-fetch': PinFetchJson | FailureJson<'reprorom.pin-fetch/v1'>;
  'image-build': ImageBuildJson | FailureJson<'reprorom.image-build/v1'>;
  build: BuildReportJson | FailureJson<'reprorom.build/v1'>;
  boot: BootCommandJson | FailureJson<'reprorom.boot/v1'>;
  compare: CompareJson | FailureJson<'reprorom.compare/v1'>;
  'release-result': ReleaseJson | FailureJson<'reprorom.release-result/v1'>;
  sign: SignJson | FailureJson<'reprorom.sign/v1'>;
  verify: VerifyJson | FailureJson<'reprorom.verify/v1'>;
  merge: MergeJson | FailureJson<'reprorom.merge/v1'>;
  report: ReportJson | AttestationHistoryJson | FailureJson<'reprorom.report/v1'>;
  list: ListJson | FailureJson<'reprorom.list/v1'>;
  init: InitJson | FailureJson<'reprorom.init/v1'>;
  ci: CiJson | FailureJson<'reprorom.ci/v1'>;
  schemas: SchemasJson | FailureJson<'reprorom.schemas/v1'>;
}

export type JsonKind = keyof JsonOutputs;

/** Which output kind each command path prints with `--json` (`pin lock` → `pin-lock`). */
export const JSON_KIND_OF_COMMAND: Readonly<Record<string, JsonKind>> = {
  check: 'check',
  doctor: 'doctor',
  'pin lock': 'pin-lock',
  'pin verify': 'pin-verify',
  'pin fetch': 'pin-fetch',
  'image build': 'image-build',
  build: 'build',
  boot: 'boot',
  compare: 'compare',
  release: 'release-result',
  sign: 'sign',
  verify: 'verify',
  merge: 'merge',
  report: 'report',
  list: 'list',
  init: 'init',
  'ci github': 'ci',
  'ci circleci': 'ci',
  schemas: 'schemas',
};
