/**
 * `reprorom verify DIR|file-URL [--key …] [--no-rebuild [--rom FILE]]`: signature,
 * integrity, provenance, rebuild, comparison, and one verdict per artifact; with
 * --no-rebuild the checks before the rebuild only (no workspace, engine or nix).
 *
 * Exit codes: 0 verified (good signature if one was given, every artifact rebuilt bit for bit);
 * 1 a signature, integrity, pin/image/definition or artifact check failed;
 * 2 usage error or incomplete provenance; 3 engine/nix/ssh-keygen/gpg missing;
 * 4 the rebuild itself failed.
 */
import { relative } from 'node:path';
import { comparisonJson } from '../../compare/outcome.js';
import type { VerifyJson } from '../../contracts/json.js';
import { type VerifyResult, verifyRelease } from '../../release/verify.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { withInterrupts } from '../../util/interrupt.js';
import { outcomeError, paint, printLine, printOutput, writeErr } from '../output.js';
import { printComparison } from './compare.js';

export interface VerifyCliOptions {
  workspace: string;
  key?: string;
  keyring?: string;
  rom?: string;
  board?: string;
  /** Commander's `--no-rebuild`: false when given. */
  rebuild?: boolean;
  json?: boolean;
  /** `--attestations …`: count rebuilders' attestations instead (verifyAttestations.ts). */
  attestations?: string[];
  trust?: string;
  threshold?: string;
  allowDisagreement?: boolean;
  maxAge?: string;
}

function verifyJson(r: VerifyResult): VerifyJson {
  return {
    schema: 'reprorom.verify/v1',
    ok: r.ok,
    ...(r.ok
      ? {}
      : {
          error: outcomeError(
            ExitCode.mismatch,
            `NOT VERIFIED: ${reasons(r).join('; ')}`,
            'read the failed checks; a rebuilt artifact that differs has a diff report in its comparison',
          ),
        }),
    mode: r.mode,
    rebuilt: r.rebuilt,
    release: r.release,
    signature: r.signature,
    integrity: r.integrity,
    boards: r.boards.map((b) => ({
      board: b.board,
      checks: b.checks,
      runDir: b.runDir,
      artifacts: b.artifacts,
      comparison: b.comparison ? comparisonJson(b.comparison) : null,
    })),
    notes: r.notes,
  };
}

const mark = (ok: boolean) => (ok ? paint('green', 'ok  ') : paint('red', 'FAIL'));

function printResult(r: VerifyResult): void {
  if (r.signature) {
    printLine(`signature (${r.signature.key}):`);
    for (const f of r.signature.files)
      printLine(`  ${mark(f.ok)} ${relative(r.release, f.file) || f.file}: ${f.message}`);
  }
  for (const c of r.integrity) printLine(`${mark(c.ok)} ${c.name}: ${c.message}`);
  for (const b of r.boards) {
    printLine(`${b.board}:`);
    for (const c of b.checks) printLine(`  ${mark(c.ok)} ${c.name}: ${c.message}`);
    for (const a of b.artifacts) {
      const good = a.verdict === 'reproducible';
      printLine(
        `  ${good ? paint('green', 'reproduced') : paint('red', a.verdict.toUpperCase())} ${a.name}  release ${a.release ?? '(absent)'}  rebuilt ${a.rebuilt ?? '(absent)'}`,
      );
    }
    if (b.comparison && !b.comparison.comparison.ok) {
      printLine();
      printComparison(b.comparison);
    }
  }
  for (const n of r.notes) printLine(paint('dim', `note: ${n}`));
  printLine();
  printLine(r.ok ? paint('green', verifiedLine(r)) : paint('red', `NOT VERIFIED: ${reasons(r).join('; ')}`));
}

/** The last line says exactly what was checked: never a signature that was not, nor a rebuild. */
export function verifiedLine(r: VerifyResult): string {
  if (!r.rebuilt) {
    // Without a signature the hashes are only a list someone gave: never called "signed".
    const hashes = r.signature ? 'the signed hashes' : `the hashes in ${r.release}`;
    const what =
      r.boards.length > 0
        ? `every file matches ${hashes} (nothing was rebuilt)`
        : `the ROM matches ${hashes} (nothing was rebuilt)`;
    return r.signature?.ok
      ? `VERIFIED: good signature and ${what}`
      : `VERIFIED (no signature checked): ${what}`;
  }
  const names = r.boards.flatMap((b) => b.artifacts.map((a) => a.name));
  const rebuilt =
    r.mode === 'heads' ? `${names.join(', ')} rebuilt bit for bit` : 'every artifact rebuilt bit for bit';
  return r.signature?.ok
    ? `VERIFIED: good signature and ${rebuilt}`
    : `VERIFIED (no signature checked): ${rebuilt}`;
}

/** The failed checks, in the order they were made. */
export function reasons(r: VerifyResult): string[] {
  const out: string[] = [];
  if (r.signature && !r.signature.ok)
    out.push(...r.signature.files.filter((f) => !f.ok).map((f) => `signature check failed: ${f.message}`));
  out.push(
    ...r.integrity
      .filter((c) => !c.ok)
      .map((c) => `${c.name === 'rom' ? 'ROM' : 'integrity'} check failed: ${c.message}`),
  );
  for (const b of r.boards) {
    out.push(...b.checks.filter((c) => !c.ok).map((c) => `${b.board}: ${c.name} check failed: ${c.message}`));
    out.push(
      ...b.artifacts
        .filter((a) => a.verdict !== 'reproducible')
        .map((a) => `${b.board}: ${a.name} does not match (${a.verdict})`),
    );
  }
  return out.length > 0 ? out : ['nothing was verified'];
}

export async function runVerify(release: string, opts: VerifyCliOptions): Promise<number> {
  if (opts.attestations) {
    const { runVerifyAttestations } = await import('./verifyAttestations.js');
    return runVerifyAttestations(release, { ...opts, attestations: opts.attestations });
  }
  // Never silently ignored: these only mean something when attestations are counted.
  if (opts.trust || opts.threshold || opts.allowDisagreement || opts.maxAge)
    throw new UsageError(
      '--trust, --threshold, --allow-disagreement and --max-age go with --attestations',
      'reprorom verify RELEASE --attestations DIR --trust FILE --threshold K --no-rebuild',
    );
  const say = (board: string, text: string) => writeErr(`[${board}] ${text}\n`);
  const result = await withInterrupts((signal) =>
    verifyRelease(release, {
      workspace: opts.workspace,
      ...(opts.key ? { key: opts.key } : {}),
      ...(opts.keyring ? { keyring: opts.keyring } : {}),
      ...(opts.rom ? { rom: opts.rom } : {}),
      ...(opts.board ? { board: opts.board } : {}),
      ...(opts.rebuild === false ? { noRebuild: true } : {}),
      signal,
      onEvent: say,
    }),
  );
  if (opts.json) printOutput('verify', verifyJson(result));
  else printResult(result);
  if (!result.ok) for (const why of reasons(result)) writeErr(`reprorom: ${why}\n`);
  return result.ok ? ExitCode.ok : ExitCode.mismatch;
}
