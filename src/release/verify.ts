/**
 * `verify`: is this release what its provenance says, and does building that
 * again here give the same bytes? Order: signatures (nothing unsigned is read
 * as truth) → integrity of the folder → completeness of the provenance → the
 * workspace holds the same pin, image and board definition → rebuild → compare.
 */
import { lstatSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { allArtifacts } from '../compare/compare.js';
import { loadInputs } from '../compare/inputs.js';
import { artifactsOf } from '../compare/model.js';
import { type CompareOutcome, compareInputs } from '../compare/outcome.js';
import { connectEngine, type Engine } from '../engine/docker.js';
import { baseName } from '../hashes/artifactPath.js';
import { MANIFEST_FILE, type ManifestInputRecord, readManifest } from '../hashes/runManifest.js';
import { prepareImage } from '../imagebuild/prepare.js';
import { type BuildPlan, type PlannedBoard, planBuild } from '../plan/plan.js';
import { INPUT_PREFIX, inputDifferences } from '../provenance/inputs.js';
import { type DescribedBuild, jsonDifferences } from '../provenance/parse.js';
import { provenanceStatement } from '../provenance/statement.js';
import { executePlan } from '../runs/execute.js';
import { BuildFailedError, UsageError } from '../util/errors.js';
import { fileUrlPath } from '../util/fileUrl.js';
import { printable } from '../util/printable.js';
import { fileKind } from '../util/regularFile.js';
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
import { expectedMismatchProblem } from './expected.js';
import { irregularEntries } from './releaseFiles.js';
import { RELEASE_HASHES, RELEASE_MANIFEST, type ReleaseBoard } from './releaseManifest.js';
import { openVerifier, type SignatureCheck } from './signature.js';

export interface ArtifactVerdict {
  name: string;
  verdict: string;
  release: string | null;
  rebuilt: string | null;
}

export interface BoardVerification {
  board: string;
  checks: Check[];
  runDir: string | null;
  artifacts: ArtifactVerdict[];
  comparison: CompareOutcome | null;
}

export interface VerifyResult {
  mode: 'release' | 'heads';
  /** False for `--no-rebuild`: signatures and hashes only. */
  rebuilt: boolean;
  release: string;
  signature: { ok: boolean; key: string; files: SignatureCheck[] } | null;
  integrity: Check[];
  boards: BoardVerification[];
  notes: string[];
  ok: boolean;
}

export interface VerifyOptions {
  workspace: string;
  key?: string;
  keyring?: string;
  rom?: string;
  board?: string;
  /** Signatures and hashes only: no workspace, engine or nix (`--rom` is then a file to check). */
  noRebuild?: boolean;
  signal?: AbortSignal;
  engine?: Engine;
  onEvent?: (board: string, text: string) => void;
}

/** A folder, its manifest.json, a Heads hashes.txt, or a file:// URL of one of these. */
export async function resolveReleaseInput(
  input: string,
): Promise<{ kind: 'release'; dir: string } | { kind: 'heads'; file: string }> {
  let path = input;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    if (!input.startsWith('file://')) {
      throw new UsageError(
        `"${input}" is not a local release`,
        'download the release folder first, then pass its path or a file:// URL',
      );
    }
    const local = fileUrlPath(input);
    if (!local.ok)
      throw new UsageError(
        `release ${printable(input)} ${local.problem}`,
        'download the release folder first, then pass its path or a file:///path URL',
      );
    path = local.path;
  }
  path = resolve(path);
  const s = await stat(path).catch(() => undefined);
  if (!s)
    throw new UsageError(
      `release "${input}" does not exist`,
      'pass a release folder (written by `reprorom release`), its manifest.json, or a Heads hashes.txt with --rom and --board',
    );
  // A FIFO or device would block or never end: only a folder or a regular file is read.
  if (!s.isDirectory() && !s.isFile())
    throw new UsageError(
      `release "${input}" is ${fileKind(s)}, expected a release folder, its manifest.json or a hashes.txt`,
      'pass a release folder (written by `reprorom release`), its manifest.json, or a Heads hashes.txt with --rom and --board',
    );
  if (s.isDirectory()) return { kind: 'release', dir: path };
  if (basename(path) === RELEASE_MANIFEST) return { kind: 'release', dir: dirname(path) };
  return { kind: 'heads', file: path };
}

/** The board as the workspace plans it, or a failed check when the workspace lacks it. */
type Planning = { ok: true; plan: BuildPlan; planned: PlannedBoard } | { ok: false; check: Check };

function planOne(ws: Workspace, board: string): Planning {
  const missing = (message: string): Planning => ({ ok: false, check: fail('board', message) });
  if (!ws.boards.has(board))
    return missing(
      `board ${board} is not in workspace ${ws.root} (it has: ${[...ws.boards.keys()].join(', ') || 'none'})`,
    );
  // The board's producers come first in the plan: the rebuild rebuilds the chain.
  const plan = planBuild(ws, { boards: [board], runs: 1, jobs: 1, cores: availableParallelism() });
  const planned = plan.boards.find((p) => p.name === board);
  if (!planned) return missing(`board ${board} could not be planned`);
  // A board declared not reproducible cannot be verified: a rebuild would prove nothing.
  const refused = expectedMismatchProblem(planned, 'verify');
  return refused
    ? missing(`${refused.file}:${refused.line}:${refused.col}: ${refused.message}`)
    : { ok: true, plan, planned };
}

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

interface RebuildOutcome {
  checks: Check[];
  runDir: string | null;
  manifestPath: string | null;
}

/** Run folders of the boards rebuilt so far by one `verify`, by board: each board is rebuilt once. */
type Rebuilt = Map<string, string>;

/**
 * The producers' rebuilt artifacts against the inputs the provenance records: the lines of
 * `inputDifferences` for what differs (empty when every input another board makes matches).
 */
async function producedInputDifferences(
  planned: PlannedBoard,
  d: DescribedBuild,
  rebuilt: Rebuilt,
): Promise<string[]> {
  const records: ManifestInputRecord[] = [];
  for (const input of planned.board.inputs) {
    if (input.type !== 'board') continue;
    const outDir = rebuilt.get(input.board);
    if (!outDir) continue;
    const m = await readManifest(join(outDir, MANIFEST_FILE));
    const a = m.artifacts.find((x) => x.path === `artifacts/${input.artifact}`);
    if (a)
      records.push({
        type: 'board',
        path: input.path,
        sha256: a.sha256,
        size: a.size,
        board: input.board,
        artifact: input.artifact,
        run: m.run.index,
      });
  }
  const recorded = d.inputs
    .filter((i) => i.board !== undefined)
    .map((i) => ({
      name: `${INPUT_PREFIX}${i.path}`,
      digest: { sha256: i.sha256 },
      annotations: { board: i.board ?? '', artifact: i.artifact ?? '' },
    }));
  return inputDifferences(recorded, records);
}

/**
 * Image from the pin (must give the released ID), then one run of the board in the reference
 * environment, after its producers (each rebuilt once per verify, and kept in `rebuilt`). When a
 * rebuilt producer's artifact is not the input the provenance records, that input is named and
 * the board itself is not rebuilt: its ROM could not match.
 */
async function rebuild(
  plan: BuildPlan,
  planned: PlannedBoard,
  d: DescribedBuild | undefined,
  opts: VerifyOptions,
  engine: Engine,
  rebuilt: Rebuilt = new Map(),
): Promise<RebuildOutcome> {
  const checks: Check[] = [];
  const event = opts.onEvent ?? (() => {});
  const imageName = planned.image.name;
  event(
    planned.name,
    `image ${imageName}: building from its pin (or answering from the content-keyed cache)`,
  );
  const image = await prepareImage(planned.image, engine, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    onStep: (s) => event(planned.name, `image ${imageName}: ${s}`),
  });
  if (d) {
    if (image.id !== d.image.id) {
      checks.push(
        fail(
          'image',
          `image ${imageName} rebuilt from its pin has ID ${image.id}, but the release was built in ${d.image.id}`,
        ),
      );
      return { checks, runDir: null, manifestPath: null };
    }
    checks.push(
      ok(
        'image',
        `image ${imageName} ${image.id} (built from its pin${image.cached ? ', answered from the content-keyed cache' : ''})`,
      ),
    );
  }
  const run = async (boards: PlannedBoard[]): Promise<void> => {
    const result = await executePlan(
      { ...plan, boards, images: [...new Set(boards.map((b) => b.image))] },
      {
        engine,
        // Producers in other images get theirs the usual way (from the cache or built).
        prepareImage: async (img, eng, o) => (img === planned.image ? image : prepareImage(img, eng, o)),
        producerRun: (board) => rebuilt.get(board),
        ...(opts.signal ? { signal: opts.signal } : {}),
        onEvent: event,
      },
    );
    for (const b of boards) {
      const outcome = result.boards.find((o) => o.board === b.name);
      const r = outcome?.runs[0];
      if (!r?.ok || !r.outDir) {
        throw new BuildFailedError(
          `rebuilding ${b.name}${b.name === planned.name ? '' : ` (a producer of ${planned.name})`} failed: ${r?.error ?? 'no run'}`,
          `see the log: ${outcome?.log ?? result.runDir}`,
        );
      }
      rebuilt.set(b.name, r.outDir);
    }
  };
  // The producers first: an input that differs is named before the (long) build it feeds.
  const producers = plan.boards.filter((b) => b.name !== planned.name && !rebuilt.has(b.name));
  if (producers.length > 0) await run(producers);
  if (d) {
    const differs = await producedInputDifferences(planned, d, rebuilt);
    if (differs.length > 0) {
      for (const line of differs)
        checks.push(fail('input', `${line} (so ${planned.name} itself was not rebuilt: it could not match)`));
      return { checks, runDir: null, manifestPath: null };
    }
  }
  if (!rebuilt.has(planned.name)) await run([planned]);
  const outDir = rebuilt.get(planned.name) as string;
  return { checks, runDir: outDir, manifestPath: join(outDir, MANIFEST_FILE) };
}

function verdicts(
  outcome: CompareOutcome,
  releaseLabel: string,
  rebuiltLabel: string,
  only?: string,
): ArtifactVerdict[] {
  return allArtifacts(outcome.comparison)
    .filter((a) => only === undefined || a.key === only || baseName(a.key) === only)
    .map((a) => ({
      name: a.name,
      verdict: a.verdict,
      release: a.hashes[releaseLabel] ?? null,
      rebuilt: a.hashes[rebuiltLabel] ?? null,
    }));
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
  const r = await rebuild(planning.plan, planning.planned, d, opts, engine, done);
  checks.push(...r.checks);
  if (!r.runDir || !r.manifestPath) return out;
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
  const releaseHashes = join(dir, b.hashes);
  const outcome = await compareInputs([r.runDir, releaseHashes], {});
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

export async function verifyRelease(input: string, opts: VerifyOptions): Promise<VerifyResult> {
  const target = await resolveReleaseInput(input);
  if (target.kind === 'heads' || (opts.rom !== undefined && !opts.noRebuild))
    return verifyHeads(target.kind === 'heads' ? target.file : join(target.dir, RELEASE_HASHES), opts);
  const dir = target.dir;
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
  try {
    // Before anything in the folder is opened: a link, FIFO or device there is refused by name.
    const irregular = await irregularEntries(dir);
    if (irregular.length > 0) {
      result.integrity = [
        fail('files', `${irregular.join(', ')}: a release folder holds regular files only`),
      ];
      return result;
    }
    const signed = await signatureChecks(dir, verifier, result.notes);
    result.signature = signed.signature;
    const manifest = signed.manifest;
    if (!result.signature.ok || !manifest) return result;
    if (opts.noRebuild && opts.rom !== undefined) {
      // A downloaded ROM: the signed lists are enough, the other ROMs need not be here.
      const check = await romCheck(
        opts.rom,
        manifest.boards.flatMap((b) => b.artifacts),
        RELEASE_HASHES,
      );
      result.integrity = [check];
      result.ok = check.ok;
      return result;
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
    } else {
      const ws = await loadValidWorkspace(opts.workspace);
      const engine = opts.engine ?? connectEngine();
      // One rebuild per board: a producer rebuilt for its consumer is the one its own check uses.
      const rebuilt: Rebuilt = new Map();
      for (const d of described) result.boards.push(await verifyBoard(dir, d, ws, opts, engine, rebuilt));
    }
  } finally {
    await verifier.close();
  }
  result.ok =
    result.signature?.ok === true &&
    result.integrity.every((c) => c.ok) &&
    result.boards.every(
      (b) =>
        b.checks.every((c) => c.ok) &&
        (opts.noRebuild ||
          (b.artifacts.length > 0 && b.artifacts.every((a) => a.verdict === 'reproducible'))),
    );
  return result;
}

/** A Heads-style hashes.txt as the published reference: rebuild BOARD and match ROM by file name. */
async function verifyHeads(file: string, opts: VerifyOptions): Promise<VerifyResult> {
  if (opts.noRebuild) return checkHeads(file, opts);
  if (!opts.rom || !opts.board) {
    throw new UsageError(
      'a hashes.txt reference needs --rom NAME and --board BOARD',
      'reprorom verify hashes.txt --rom heads-x230.rom --board x230 -w WORKSPACE',
    );
  }
  const result = await headsSignature(file, true, opts);
  if (result.signature?.ok === false) return result;
  // The reference is read before anything is built: a file that is not a hashes list, or
  // that does not list the ROM, is refused at once rather than after a long rebuild.
  const reference = await loadInputs([file]);
  const listed = reference.some((set) =>
    artifactsOf(set).some((x) => x.path === opts.rom || baseName(x.path) === opts.rom),
  );
  if (!listed) {
    result.boards.push({
      board: opts.board,
      checks: [fail('artifacts', `${opts.rom} is not listed in ${file}; nothing was rebuilt`)],
      runDir: null,
      artifacts: [],
      comparison: null,
    });
    return result;
  }
  const ws = await loadValidWorkspace(opts.workspace);
  const planning = planOne(ws, opts.board);
  if (!planning.ok)
    throw new UsageError(planning.check.message, 'name a board of this workspace with --board');
  const engine = opts.engine ?? connectEngine();
  const r = await rebuild(planning.plan, planning.planned, undefined, opts, engine);
  const board: BoardVerification = {
    board: opts.board,
    checks: r.checks,
    runDir: r.runDir,
    artifacts: [],
    comparison: null,
  };
  result.boards.push(board);
  const outcome = await compareInputs([r.runDir!, file], {});
  board.comparison = outcome;
  const [rebuiltSet, headsSet] = outcome.comparison.inputs;
  board.artifacts = verdicts(outcome, headsSet?.label ?? '', rebuiltSet?.label ?? '', opts.rom);
  const row = board.artifacts[0];
  if (!row) {
    board.checks.push(fail('artifacts', `board ${opts.board} builds no ROM named ${opts.rom}`));
  } else if (row.release === null) {
    board.checks.push(fail('artifacts', `${opts.rom} is not listed in ${file}`));
  }
  result.notes.push(...outcome.comparison.notes.filter((n) => !n.includes('were not compared')));
  result.ok =
    (result.signature?.ok ?? true) && board.checks.every((c) => c.ok) && row?.verdict === 'reproducible';
  return result;
}

/** A downloaded ROM against a (signed) Heads-style hashes.txt: no rebuild. */
async function checkHeads(file: string, opts: VerifyOptions): Promise<VerifyResult> {
  if (!opts.rom)
    throw new UsageError(
      'with a hashes.txt, --no-rebuild checks a ROM file: pass it with --rom FILE',
      'reprorom verify hashes.txt --no-rebuild --rom ./heads-x230.rom --key publisher.pub',
    );
  const result = await headsSignature(file, false, opts);
  if (result.signature?.ok === false) return result;
  const listed = (await loadInputs([file])).flatMap((set) => artifactsOf(set));
  const check = await romCheck(opts.rom, listed, basename(file), result.signature !== null);
  result.integrity = [check];
  result.ok = check.ok;
  return result;
}

/** A Heads-style hashes.txt's result so far: its signature checked when a key is given, else a note saying it is not. */
async function headsSignature(file: string, rebuilt: boolean, opts: VerifyOptions): Promise<VerifyResult> {
  const result: VerifyResult = {
    mode: 'heads',
    rebuilt: rebuilt,
    release: file,
    signature: null,
    integrity: [],
    boards: [],
    notes: [],
    ok: false,
  };
  if (opts.key || opts.keyring) {
    const verifier = await openVerifier(opts);
    try {
      const check = await verifier.check(file);
      result.signature = { ok: check.ok, key: verifier.describe, files: [check] };
    } finally {
      await verifier.close();
    }
  } else
    result.notes.push(
      `${file} is not signature-checked (no --key or --keyring): only its hashes are compared`,
    );
  return result;
}
