/**
 * The commands about the workspace and the machine: check, doctor, pin, image build, list, init, ci, schemas.
 * Part of the contract in json.ts (its header says what every output promises).
 */
import type { ErrorJson, ProblemJson } from './failureJson.js';

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
