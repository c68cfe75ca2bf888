/**
 * The versioned JSON shapes reprorom publishes (`--json`, JUnit, GitHub summaries, the
 * HTML report and release checks all read these). Plain types importing nothing outside
 * contracts/, so any layer may depend on them and none drags another layer in.
 *
 * The contract: every `--json` output is one object `{ "schema": "reprorom.<kind>/v1",
 * "ok": …, … }` on stdout, also when the command fails. When `ok` is false, `error` says
 * why, with the process's exit code. When the command could not produce its result at all
 * (a usage or configuration error, a missing engine…), the object holds only `schema`,
 * `ok: false` and `error` ({@link FailureJson}).
 *
 * The shapes live one file per command family beside this one (failureJson.ts,
 * compareJson.ts, buildJson.ts, releaseJson.ts, runFoldersJson.ts, workspaceJson.ts) and
 * are re-exported here; JsonOutputs below names every kind.
 *
 * The JSON Schemas in schemas/output/ are generated from these types (`npm run schemas`);
 * test/unit/json-schemas.test.ts fails when they drift. Change a shape here, then run it.
 */
import type { BootCommandJson, BuildReportJson } from './buildJson.js';
import type { CompareJson } from './compareJson.js';
import type { FailureJson } from './failureJson.js';
import type { ReleaseJson, SignJson, VerifyJson } from './releaseJson.js';
import type { AttestationHistoryJson, MergeJson, ReportJson } from './runFoldersJson.js';
import type {
  CheckJson,
  CiJson,
  DoctorJson,
  ImageBuildJson,
  InitJson,
  ListJson,
  PinFetchJson,
  PinLockJson,
  PinVerifyJson,
  SchemasJson,
} from './workspaceJson.js';

export type * from './buildJson.js';
export type * from './compareJson.js';
export type * from './failureJson.js';
export type * from './releaseJson.js';
export type * from './runFoldersJson.js';
export type * from './workspaceJson.js';

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
