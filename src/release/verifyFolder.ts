/**
 * `verify` of a release folder: signatures (nothing unsigned is read as truth) → integrity
 * of the folder → completeness of the provenance → the workspace holds the same pin, image
 * and board definition → rebuild → compare, board by board.
 */
import { lstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectEngine } from '../engine/docker.js';
import type { Engine } from '../engine/port.js';
import { readManifest } from '../hashes/runManifest.js';
import type { PlannedBoard } from '../plan/plan.js';
import { inputDifferences } from '../provenance/inputs.js';
import { type DescribedBuild, jsonDifferences } from '../provenance/parse.js';
import { provenanceStatement } from '../provenance/statement.js';
import { UsageError } from '../util/errors.js';
import { loadValidWorkspace, type Workspace } from '../workspace/load.js';
import {
  type Check,
  extraFilesCheck,
  fail,
  inputUses,
  integrityChecks,
  ok,
  provenanceChecks,
  romCheck,
  signatureChecks,
} from './check.js';
import { planOne, type Rebuilt, rebuild, verdicts } from './rebuild.js';
import { irregularEntries } from './releaseFiles.js';
import { RELEASE_HASHES, RELEASE_MANIFEST, type ReleaseBoard } from './releaseManifest.js';
import { openVerifier, type Verifier } from './signature.js';
import type { BoardVerification, VerifyOptions, VerifyResult } from './verifyTypes.js';

/** Same pin content, same board definition: otherwise a rebuild would prove nothing. */
function planChecks(planned: PlannedBoard, d: DescribedBuild): Check[] {
  const checks: Check[] = [];
  const { board: def, file } = planned;
  if (def.image !== d.image.name)
    checks.push(fail('definition', `${file} uses image ${def.image}, the provenance says ${d.image.name}`));
  const planPins = [planned.pin, ...planned.extraPins];
  const described = [d.pin, ...d.extraPins];
  if (JSON.stringify(planPins.map((p) => p.name)) !== JSON.stringify(described.map((p) => p.name))) {
    checks.push(
      fail(
        'pin',
        `image ${def.image} uses pins ${planPins.map((p) => p.name).join(', ')}, the provenance says ${described.map((p) => p.name).join(', ')}`,
      ),
    );
  }
  for (const p of described) {
    const mine = planPins.find((x) => x.name === p.name);
    if (!mine)
      checks.push(
        fail(
          'pin',
          `pin ${p.name} is not in the workspace; the provenance needs it with narHash ${p.narHash}`,
        ),
      );
    else if (mine.narHash !== p.narHash) {
      checks.push(
        fail(
          'pin',
          `pin ${p.name}: the workspace has narHash ${mine.narHash} (pins/${p.name}.yaml), but the release was built with narHash ${p.narHash}`,
        ),
      );
    } else checks.push(ok('pin', `pin ${p.name} narHash ${p.narHash} (${p.flake})`));
  }
  if (JSON.stringify(def.commands) !== JSON.stringify(d.commands)) {
    checks.push(
      fail(
        'definition',
        `${file} runs ${JSON.stringify(def.commands)}, the provenance says ${JSON.stringify(d.commands)}`,
      ),
    );
  }
  if (typeof def.sourceDateEpoch === 'number' && def.sourceDateEpoch !== d.sourceDateEpoch) {
    checks.push(
      fail(
        'definition',
        `${file} sets sourceDateEpoch ${def.sourceDateEpoch}, the provenance says ${d.sourceDateEpoch}`,
      ),
    );
  }
  if (def.source.type !== d.source.type)
    checks.push(
      fail('definition', `${file} has a ${def.source.type} source, the provenance says ${d.source.type}`),
    );
  return checks;
}

async function verifyBoard(
  dir: string,
  described: { board: ReleaseBoard; build: DescribedBuild; checks: Check[] },
  ws: Workspace,
  opts: VerifyOptions,
  engine: Engine,
  done: Rebuilt,
): Promise<BoardVerification> {
  const { board: b, build: d, checks } = described;
  const provPath = join(dir, b.provenance.path);
  const out: BoardVerification = { board: b.board, checks, runDir: null, artifacts: [], comparison: null };
  // The provenance is checked against the plan before anything runs.
  const planning = planOne(ws, d.board);
  if (!planning.ok) {
    checks.push(planning.check);
    return out;
  }
  checks.push(...planChecks(planning.planned, d));
  const off = Object.entries(d.variationsOff);
  checks.push(
    ok(
      'variations',
      off.length === 0
        ? 'the release was built with every variation on'
        : `the release was built with these variations off: ${off.map(([n, why]) => `${n} (${why})`).join('; ')}`,
    ),
  );
  if (checks.some((c) => !c.ok)) return out;
  const releaseHashes = join(dir, b.hashes);
  const signal = opts.signal ?? new AbortController().signal;
  const r = await rebuild(
    planning.plan,
    planning.planned,
    d,
    releaseHashes,
    { ...opts, signal },
    engine,
    done,
  );
  checks.push(...r.checks);
  if (!r.runDir || !r.manifestPath || !r.comparison) return out;
  out.runDir = r.runDir;
  const rebuilt = await readManifest(r.manifestPath);
  // Which variations were off is the builder's choice, not an input: reported, not compared.
  const { internalParameters: _published, ...recorded } = JSON.parse(await readFile(provPath, 'utf8'))
    .predicate.buildDefinition as Record<string, unknown> & { resolvedDependencies?: unknown };
  const inputs = inputDifferences(
    (recorded.resolvedDependencies ?? []) as Parameters<typeof inputDifferences>[0],
    rebuilt.inputs,
  );
  for (const line of inputs) checks.push(fail('input', line));
  if (inputs.length === 0)
    for (const i of rebuilt.inputs)
      checks.push(
        ok('input', `input ${i.path} sha256 ${i.sha256}${i.board ? ` (board ${i.board} rebuilt)` : ''}`),
      );
  const { internalParameters: _rebuilt, ...again } = provenanceStatement(rebuilt).predicate.buildDefinition;
  const differences = jsonDifferences(recorded, again, 'buildDefinition');
  checks.push(
    differences.length === 0
      ? ok('definition', 'the rebuild used the same source, pins, image, commands and environment')
      : fail(
          'definition',
          `the rebuild differs from the provenance (release ≠ rebuilt): ${differences.join('; ')}`,
        ),
  );
  const outcome = r.comparison;
  out.comparison = outcome;
  const [rebuiltSet, releaseSet] = outcome.comparison.inputs;
  out.artifacts = verdicts(outcome, releaseSet?.label ?? '', rebuiltSet?.label ?? '');
  if (out.artifacts.length !== b.artifacts.length) {
    checks.push(
      fail(
        'artifacts',
        `the release lists ${b.artifacts.length} artifact(s) of ${b.board}, the comparison found ${out.artifacts.length}`,
      ),
    );
  }
  return out;
}

/** Every check of a release folder, in order: the answer of `verifyRelease` for a folder. */
export async function verifyReleaseFolder(dir: string, opts: VerifyOptions): Promise<VerifyResult> {
  const manifestPath = join(dir, RELEASE_MANIFEST);
  if (!lstatSync(manifestPath, { throwIfNoEntry: false }))
    throw new UsageError(
      `${dir} holds no ${RELEASE_MANIFEST}`,
      'pass a folder written by `reprorom release`',
    );
  const result: VerifyResult = {
    mode: 'release',
    rebuilt: !opts.noRebuild,
    release: dir,
    signature: null,
    integrity: [],
    boards: [],
    notes: [],
    ok: false,
  };
  const verifier = await openVerifier(opts);
  let complete = false;
  try {
    complete = await checkFolder(dir, opts, verifier, result);
  } finally {
    await verifier.close();
  }
  if (complete) result.ok = folderVerdict(result, opts.noRebuild === true);
  return result;
}

/**
 * Fills `result` check by check. False when it stopped early (an irregular file, a bad
 * signature, or `--rom` answered from the signed lists alone): `result.ok` is then final.
 */
async function checkFolder(
  dir: string,
  opts: VerifyOptions,
  verifier: Verifier,
  result: VerifyResult,
): Promise<boolean> {
  // Before anything in the folder is opened: a link, FIFO or device there is refused by name.
  const irregular = await irregularEntries(dir);
  if (irregular.length > 0) {
    result.integrity = [fail('files', `${irregular.join(', ')}: a release folder holds regular files only`)];
    return false;
  }
  const signed = await signatureChecks(dir, verifier, result.notes);
  result.signature = signed.signature;
  const manifest = signed.manifest;
  if (!result.signature.ok || !manifest) return false;
  if (opts.noRebuild && opts.rom !== undefined) {
    // A downloaded ROM: the signed lists are enough, the other ROMs need not be here.
    const check = await romCheck(
      opts.rom,
      manifest.boards.flatMap((b) => b.artifacts),
      RELEASE_HASHES,
    );
    result.integrity = [check];
    result.ok = check.ok;
    return false;
  }
  // The provenance first: a changed file that another board was built with is named as its input.
  const described = await provenanceChecks(dir, manifest);
  result.integrity = [
    ...(await integrityChecks(dir, manifest, inputUses(manifest, described))),
    await extraFilesCheck(dir, manifest),
  ];
  if (opts.noRebuild) {
    for (const d of described)
      result.boards.push({
        board: d.board.board,
        checks: d.checks,
        runDir: null,
        artifacts: [],
        comparison: null,
      });
    return true;
  }
  const ws = await loadValidWorkspace(opts.workspace);
  const engine = opts.engine ?? connectEngine();
  // One rebuild per board: a producer rebuilt for its consumer is the one its own check uses.
  const rebuilt: Rebuilt = new Map();
  for (const d of described) result.boards.push(await verifyBoard(dir, d, ws, opts, engine, rebuilt));
  return true;
}

/** Verified: signed, intact, every board's checks passed and (when rebuilt) every artifact reproducible. */
function folderVerdict(result: VerifyResult, noRebuild: boolean): boolean {
  return (
    result.signature?.ok === true &&
    result.integrity.every((c) => c.ok) &&
    result.boards.every(
      (b) =>
        b.checks.every((c) => c.ok) &&
        (noRebuild || (b.artifacts.length > 0 && b.artifacts.every((a) => a.verdict === 'reproducible'))),
    )
  );
}
