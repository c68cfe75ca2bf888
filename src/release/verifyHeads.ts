/**
 * `verify` against a Heads-style hashes.txt: rebuild BOARD and match ROM by file name, or
 * (`--no-rebuild`) check a downloaded ROM against the list. The list's signature is checked
 * when a key is given.
 */
import { basename } from 'node:path';
import { loadInputs } from '../compare/inputs.js';
import { artifactsOf } from '../compare/model.js';
import type { CompareOutcome } from '../compare/outcome.js';
import { connectEngine } from '../engine/docker.js';
import { baseName } from '../hashes/artifactPath.js';
import { UsageError } from '../util/errors.js';
import { loadValidWorkspace } from '../workspace/load.js';
import { fail, romCheck } from './check.js';
import { planOne, rebuild, verdicts } from './rebuild.js';
import { openVerifier } from './signature.js';
import type { BoardVerification, VerifyOptions, VerifyResult } from './verifyTypes.js';

/** A Heads-style hashes.txt as the published reference: rebuild BOARD and match ROM by file name. */
export async function verifyHeads(file: string, opts: VerifyOptions): Promise<VerifyResult> {
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
  const signal = opts.signal ?? new AbortController().signal;
  const r = await rebuild(planning.plan, planning.planned, undefined, file, { ...opts, signal }, engine);
  const board: BoardVerification = {
    board: opts.board,
    checks: r.checks,
    runDir: r.runDir,
    artifacts: [],
    comparison: null,
  };
  result.boards.push(board);
  // The Heads path gives no provenance to check first: the board is always rebuilt and compared.
  const outcome = r.comparison as CompareOutcome;
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
