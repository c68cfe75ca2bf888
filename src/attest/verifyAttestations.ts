/**
 * `verify RELEASE --attestations … --trust FILE --threshold K --no-rebuild`: read the
 * release's identity (the sha256 of its manifest.json) and check its folder holds the
 * bytes the manifest lists, read every attestation (capped, regular files only), and count
 * them with threshold.ts. Nothing is built: no workspace, engine or nix.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MAX_INPUT_BYTES } from '../hashes/limits.js';
import { type Check, integrityChecks } from '../release/check.js';
import { irregularEntries } from '../release/releaseFiles.js';
import { resolveReleaseInput } from '../release/verify.js';
import { UsageError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { IrregularFileError, readRegularFile } from '../util/regularFile.js';
import { readReleaseIdentity } from './statement.js';
import {
  type AttestationInput,
  evaluate,
  MAX_ATTESTATION_BYTES,
  parseTrust,
  type ThresholdResult,
} from './threshold.js';

export interface AttestationVerifyOptions {
  /** Files, or folders whose `*.intoto.jsonl` / `*.json` files are read. */
  attestations: string[];
  trust: string;
  threshold: number;
  allowDisagreement?: boolean;
  maxAgeMs?: number;
  now?: Date;
}

export interface AttestationVerifyResult {
  release: string;
  manifestSha256: string;
  /** How many rebuilders the trust file names (n). */
  trusted: number;
  integrity: Check[];
  threshold: ThresholdResult;
  ok: boolean;
}

/** An unreadable attestation is an input that does not count, with its reason: never a crash. */
async function readAttestation(file: string): Promise<AttestationInput> {
  try {
    // A larger file is refused by its size before anything is read.
    return { file, bytes: await readRegularFile(file, { followLinks: false, max: MAX_ATTESTATION_BYTES }) };
  } catch (err) {
    const why =
      err instanceof IrregularFileError
        ? err.what
        : `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    return { file, bytes: Buffer.alloc(0), unreadable: why };
  }
}

const ATTESTATION_FILE = /\.(intoto\.jsonl|json|jsonl)$/;

/** Each argument: a file, or a folder whose attestation files are taken in name order. */
export async function collectAttestations(paths: readonly string[]): Promise<AttestationInput[]> {
  const out: AttestationInput[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (!s)
      throw new UsageError(
        `--attestations ${printable(p)} does not exist`,
        'pass attestation files (.intoto.jsonl) or folders holding them',
      );
    if (!s.isDirectory()) {
      out.push(await readAttestation(p));
      continue;
    }
    const names = (await readdir(p)).filter((n) => ATTESTATION_FILE.test(n)).sort();
    for (const n of names) out.push(await readAttestation(join(p, n)));
  }
  return out;
}

export async function verifyAttestations(
  input: string,
  opts: AttestationVerifyOptions,
): Promise<AttestationVerifyResult> {
  if (!Number.isInteger(opts.threshold) || opts.threshold < 1)
    throw new UsageError(
      `--threshold ${opts.threshold} is not a whole number of 1 or more`,
      'e.g. --threshold 2',
    );
  const target = await resolveReleaseInput(input);
  if (target.kind !== 'release')
    throw new UsageError(
      `${printable(input)} is not a release folder: attestations name a release by its manifest.json`,
      'pass the folder written by `reprorom release`',
    );
  const trustPath = resolve(opts.trust);
  let trustText: Buffer;
  try {
    trustText = await readRegularFile(trustPath, { followLinks: true, max: MAX_INPUT_BYTES });
  } catch {
    throw new UsageError(
      `--trust ${printable(opts.trust)}: cannot read the trust file`,
      'pass a file of "BUILDER-ID ssh-ed25519 AAAA…" lines',
    );
  }
  const trust = parseTrust(trustText.toString('utf8'), opts.trust);
  if (trust.length < opts.threshold)
    throw new UsageError(
      `--threshold ${opts.threshold} but ${opts.trust} trusts ${trust.length} rebuilder(s): it can never be met`,
      'trust more rebuilders, or lower --threshold',
    );
  const dir = target.dir;
  // The release's own files must be the bytes it lists: the rebuilders attest those hashes.
  const irregular = await irregularEntries(dir);
  const identity = await readReleaseIdentity(dir);
  const integrity: Check[] =
    irregular.length > 0
      ? [
          {
            name: 'files',
            ok: false,
            message: `${irregular.join(', ')}: a release folder holds regular files only`,
          },
        ]
      : await integrityChecks(dir, identity.manifest);
  const inputs = await collectAttestations(opts.attestations);
  const threshold = evaluate(inputs, trust, identity, opts.threshold, {
    ...(opts.allowDisagreement ? { allowDisagreement: true } : {}),
    ...(opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  return {
    release: dir,
    manifestSha256: identity.manifestSha256,
    trusted: trust.length,
    integrity,
    threshold,
    ok: threshold.ok && integrity.every((c) => c.ok),
  };
}

/** `30d`, `12h`, `90m`, `45s` → milliseconds; anything else is a usage error. */
export function parseMaxAge(text: string): number {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!m)
    throw new UsageError(
      `--max-age ${printable(text)} is not a duration`,
      'e.g. --max-age 30d, 12h, 90m or 45s',
    );
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
