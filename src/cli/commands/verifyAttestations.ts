/**
 * `verify RELEASE --attestations … --trust FILE --threshold K --no-rebuild`: one line per
 * ROM "k of n trusted rebuilders agree", each disagreeing rebuilder named loudly, each
 * attestation that does not count with its reason. Exit 0 accepted, 1 not accepted.
 */
import { relative } from 'node:path';
import {
  type AttestationVerifyResult,
  parseMaxAge,
  verifyAttestations,
} from '../../attest/verifyAttestations.js';
import type { VerifyJson } from '../../contracts/json.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { printable } from '../../util/printable.js';
import { outcomeError, paint, printLine, printOutput, writeErr } from '../output.js';

export interface AttestationCliOptions {
  attestations: string[];
  trust?: string;
  threshold?: string;
  allowDisagreement?: boolean;
  maxAge?: string;
  json?: boolean;
  /** Commander's `--no-rebuild`: false when given. */
  rebuild?: boolean;
  key?: string;
  keyring?: string;
  rom?: string;
}

function reasons(r: AttestationVerifyResult): string[] {
  const out = r.integrity.filter((c) => !c.ok).map((c) => `integrity check failed: ${c.message}`);
  for (const rom of r.threshold.roms) {
    if (rom.accepted) continue;
    const dis = rom.disagreeing.map((d) => d.builderId);
    out.push(
      rom.agreeing.length < r.threshold.threshold
        ? `${rom.rom}: ${rom.agreeing.length} of the ${r.threshold.threshold} trusted rebuilders needed agree${dis.length ? `, and ${dis.join(', ')} attest other bytes` : ''}`
        : `${rom.rom}: trusted rebuilder(s) ${dis.join(', ')} attest other bytes (--allow-disagreement accepts that)`,
    );
  }
  return out;
}

function toJson(r: AttestationVerifyResult, opts: AttestationCliOptions, trusted: number): VerifyJson {
  const why = reasons(r);
  return {
    schema: 'reprorom.verify/v1',
    ok: r.ok,
    ...(r.ok
      ? {}
      : {
          error: outcomeError(
            ExitCode.mismatch,
            `NOT ACCEPTED: ${why.join('; ')}`,
            "read each attestation's reason; a disagreeing rebuilder's attestation names the bytes it got",
          ),
        }),
    mode: 'release',
    rebuilt: false,
    release: r.release,
    signature: null,
    integrity: r.integrity,
    boards: [],
    notes: [],
    attestations: {
      trust: opts.trust ?? '',
      trusted,
      threshold: r.threshold.threshold,
      allowDisagreement: opts.allowDisagreement === true,
      maxAge: opts.maxAge ?? null,
      manifestSha256: r.manifestSha256,
      roms: r.threshold.roms.map((x) => ({
        rom: x.rom,
        sha256: x.sha256,
        accepted: x.accepted,
        agreeing: x.agreeing,
        disagreeing: x.disagreeing,
      })),
      attestations: r.threshold.attestations.map((a) => ({
        file: a.file,
        builderId: a.builderId ?? null,
        keyid: a.keyid ?? null,
        time: a.reason ? null : (a.time ?? null),
        counted: !a.reason,
        reason: a.reason ?? null,
      })),
    },
  };
}

export async function runVerifyAttestations(release: string, opts: AttestationCliOptions): Promise<number> {
  const hint =
    'reprorom verify RELEASE --attestations DIR --trust rebuilders.trust --threshold 2 --no-rebuild';
  if (!opts.trust || opts.threshold === undefined)
    throw new UsageError('--attestations needs --trust FILE and --threshold K', hint);
  if (opts.rebuild !== false)
    throw new UsageError('--attestations counts rebuilders instead of rebuilding: add --no-rebuild', hint);
  if (opts.key || opts.keyring || opts.rom)
    throw new UsageError(
      '--attestations cannot be combined with --key, --keyring or --rom',
      "the rebuilders' signatures are checked here; check the publisher's signature with a separate `verify --no-rebuild --key`",
    );
  if (!/^\d{1,4}$/.test(opts.threshold))
    throw new UsageError(`--threshold ${printable(opts.threshold)} is not a whole number`, hint);
  const r = await verifyAttestations(release, {
    attestations: opts.attestations,
    trust: opts.trust,
    threshold: Number(opts.threshold),
    ...(opts.allowDisagreement ? { allowDisagreement: true } : {}),
    ...(opts.maxAge !== undefined ? { maxAgeMs: parseMaxAge(opts.maxAge) } : {}),
  });
  const trusted = r.trusted;
  if (opts.json) printOutput('verify', toJson(r, opts, trusted));
  else printResult(r, trusted);
  if (!r.ok) for (const why of reasons(r)) writeErr(`reprorom: ${why}\n`);
  return r.ok ? ExitCode.ok : ExitCode.mismatch;
}

function printResult(r: AttestationVerifyResult, trusted: number): void {
  for (const c of r.integrity)
    printLine(`${c.ok ? paint('green', 'ok  ') : paint('red', 'FAIL')} ${c.name}: ${c.message}`);
  for (const a of r.threshold.attestations) {
    const name = printable(relative(process.cwd(), a.file) || a.file);
    if (a.reason) printLine(paint('dim', `not counted: ${name}: ${printable(a.reason)}`));
    else printLine(`counted: ${name} by ${a.builderId} (${a.time})`);
  }
  for (const rom of r.threshold.roms) {
    const agree = `${rom.agreeing.length} of ${trusted} trusted rebuilders agree${rom.agreeing.length ? ` (${rom.agreeing.join(', ')})` : ''}`;
    printLine(
      `${rom.accepted ? paint('green', 'accepted') : paint('red', 'NOT ACCEPTED')} ${rom.rom}: ${agree}`,
    );
    for (const d of rom.disagreeing)
      printLine(
        paint(
          'red',
          `  DISAGREES: ${d.builderId} attests sha256 ${d.sha256}, the release says ${rom.sha256}`,
        ),
      );
  }
  printLine();
  printLine(
    r.ok
      ? paint(
          'green',
          `ACCEPTED: every ROM is attested by at least ${r.threshold.threshold} trusted rebuilder(s) (nothing was rebuilt here; no publisher signature was checked)`,
        )
      : paint('red', `NOT ACCEPTED: ${reasons(r).join('; ')}`),
  );
}
