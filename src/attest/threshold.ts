/**
 * k-of-n: a ROM is accepted when at least K attestations, signed by K distinct trusted
 * keys with K distinct builder ids, attest exactly its sha256 for exactly this release.
 * Everything else counts as not agreeing, with its reason; a trusted rebuilder that
 * attests other bytes is a disagreement, which fails the verdict unless allowed.
 */
import { type Ed25519Key, ed25519PublicKeys, verifyEnvelope } from '../release/dsse.js';
import { ConfigError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { INTOTO_STATEMENT_TYPE, REBUILD_PREDICATE_TYPE, type ReleaseIdentity, romName } from './statement.js';

/** Envelopes bigger than this are refused unread (a statement of a few ROMs is a few kB). */
export const MAX_ATTESTATION_BYTES = 1024 * 1024;

export interface TrustedBuilder {
  builderId: string;
  key: Ed25519Key;
}

/** What `attest --builder-id` accepts: a plain name, safe to print. */
export const BUILDER_ID = /^[A-Za-z0-9][A-Za-z0-9._@:/-]{0,199}$/;

/**
 * `builder-id ssh-ed25519 AAAA… [comment]` per line, as in an allowed_signers file.
 * A line that is not that is refused with FILE:LINE:COL, never skipped: a trust file that
 * silently lost a rebuilder would change what K of N means. One key is one rebuilder.
 */
export function parseTrust(text: string, file = 'trust file'): TrustedBuilder[] {
  const out: TrustedBuilder[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const problem = (message: string, hint: string) =>
      new ConfigError([{ file, line: i + 1, col: line.indexOf(t) + 1, message }], hint);
    const [id = '', type = '', blob = ''] = t.split(/\s+/);
    const [key] = type === 'ssh-ed25519' ? ed25519PublicKeys(`${type} ${blob}`) : [];
    if (!BUILDER_ID.test(id) || !key)
      throw problem(
        'expected "BUILDER-ID ssh-ed25519 AAAA… [comment]"',
        'one trusted rebuilder per line: its builder id (letters, digits, ._@:/-), then its OpenSSH ed25519 public key',
      );
    const again = out.find((o) => o.key.keyid === key.keyid || o.builderId === id);
    if (again)
      throw problem(
        `${again.builderId === id ? `builder id ${id}` : `the key ${key.keyid}`} is already trusted (as ${again.builderId})`,
        'one line per rebuilder: each has its own builder id and its own key',
      );
    out.push({ builderId: id, key });
  }
  return out;
}

/** Attestations dated this far ahead of the verifier's clock are refused under --max-age. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface AttestationInput {
  file: string;
  bytes: Buffer;
  /** Set when the file could not be read (too large, a link, …): why. */
  unreadable?: string;
}

export interface Counted {
  file: string;
  builderId?: string;
  /** The fingerprint of the trusted key whose signature holds (when one does). */
  keyid?: string;
  /** Set when the attestation is usable: its time, as the statement gives it. */
  time?: string;
  /** ok: usable; otherwise why it does not count. */
  reason?: string;
  /** ROM name → sha256 attested (only for usable ones). */
  roms: Map<string, string>;
}

function check(
  input: AttestationInput,
  trust: TrustedBuilder[],
  release: ReleaseIdentity,
  maxAgeMs?: number,
  now = new Date(),
): Counted {
  const bad = (reason: string, builderId?: string): Counted => ({
    file: input.file,
    reason,
    roms: new Map(),
    ...(builderId ? { builderId } : {}),
  });
  if (input.unreadable) return bad(input.unreadable);
  if (input.bytes.length > MAX_ATTESTATION_BYTES) return bad(`larger than ${MAX_ATTESTATION_BYTES} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(input.bytes);
  } catch {
    return bad('not UTF-8');
  }
  const env = verifyEnvelope(
    text.trim(),
    trust.map((t) => t.key),
  );
  if (!env.ok) return bad(`untrusted or unsigned: ${env.message}`);
  let s: {
    _type?: unknown;
    subject?: unknown;
    predicateType?: unknown;
    predicate?: {
      builder?: { id?: unknown };
      release?: { manifestSha256?: unknown };
      time?: unknown;
      roms?: unknown;
    };
  };
  try {
    s = JSON.parse(env.payload.toString('utf8'));
  } catch {
    return bad('the signed statement is not JSON');
  }
  if (typeof s !== 'object' || s === null) return bad('the signed statement is not a JSON object');
  if (s._type !== INTOTO_STATEMENT_TYPE || s.predicateType !== REBUILD_PREDICATE_TYPE)
    return bad(`not a ${REBUILD_PREDICATE_TYPE} in-toto statement`);
  const id = s.predicate?.builder?.id;
  // The signature must hold for the key trusted for the builder id the statement claims,
  // not merely for some trusted key (an envelope may carry several signatures).
  const signer = trust.find((t) => t.builderId === id);
  const own = signer ? verifyEnvelope(text.trim(), [signer.key]) : undefined;
  if (!signer || !own?.ok)
    return bad(
      `builder id ${typeof id === 'string' ? JSON.stringify(printable(id)) : 'missing'} is not the one trusted for key ${env.keyid}`,
    );
  const who = { builderId: signer.builderId, keyid: signer.key.keyid };
  const refuse = (reason: string): Counted => ({ ...bad(reason), ...who });
  if (s.predicate?.release?.manifestSha256 !== release.manifestSha256)
    return refuse('attests another release (manifest sha256 differs)');
  const time = typeof s.predicate?.time === 'string' ? s.predicate.time : '';
  if (maxAgeMs !== undefined) {
    const t = Date.parse(time);
    if (!Number.isFinite(t)) return refuse('no valid time, and --max-age was given');
    if (t - now.getTime() > CLOCK_SKEW_MS) return refuse(`dated in the future (${printable(time)})`);
    if (now.getTime() - t > maxAgeMs) return refuse(`older than --max-age (${printable(time)})`);
  }
  if (!Array.isArray(s.subject)) return refuse('no subjects');
  const roms = new Map<string, string>();
  for (const sub of s.subject as Array<{ name?: unknown; digest?: { sha256?: unknown } } | null>) {
    if (typeof sub?.name !== 'string' || typeof sub.digest?.sha256 !== 'string')
      return refuse('malformed subject');
    if (roms.has(sub.name)) return refuse(`ROM ${printable(sub.name)} is named twice in the subjects`);
    roms.set(sub.name, sub.digest.sha256);
  }
  return { file: input.file, ...who, time, roms };
}

export interface RomAgreement {
  rom: string;
  sha256: string;
  agreeing: string[];
  disagreeing: Array<{ builderId: string; sha256: string }>;
  accepted: boolean;
}

export interface ThresholdResult {
  threshold: number;
  attestations: Counted[];
  roms: RomAgreement[];
  ok: boolean;
}

export function evaluate(
  inputs: AttestationInput[],
  trust: TrustedBuilder[],
  release: ReleaseIdentity,
  threshold: number,
  opts: { allowDisagreement?: boolean; maxAgeMs?: number; now?: Date } = {},
): ThresholdResult {
  const counted = inputs.map((i) => check(i, trust, release, opts.maxAgeMs, opts.now));
  // One vote per builder id and per key: a second usable attestation by the same builder is a duplicate.
  const seen = new Map<string, string>();
  for (const c of counted) {
    if (c.reason || !c.builderId) continue;
    const first = seen.get(c.builderId) ?? (c.keyid ? seen.get(c.keyid) : undefined);
    if (first !== undefined) {
      c.reason = `duplicate: builder ${c.builderId} is already counted (${first})`;
      c.roms = new Map();
    } else {
      seen.set(c.builderId, c.file);
      if (c.keyid) seen.set(c.keyid, c.file);
    }
  }
  const roms: RomAgreement[] = [];
  for (const b of release.manifest.boards)
    for (const a of b.artifacts) {
      const rom = romName(a.path);
      const agreeing: string[] = [];
      const disagreeing: RomAgreement['disagreeing'] = [];
      for (const c of counted) {
        const got = c.roms.get(rom);
        if (c.reason || !c.builderId || got === undefined) continue;
        if (got === a.sha256) agreeing.push(c.builderId);
        else disagreeing.push({ builderId: c.builderId, sha256: got });
      }
      const accepted =
        agreeing.length >= threshold && (disagreeing.length === 0 || opts.allowDisagreement === true);
      roms.push({ rom, sha256: a.sha256, agreeing, disagreeing, accepted });
    }
  return { threshold, attestations: counted, roms, ok: threshold >= 1 && roms.every((r) => r.accepted) };
}
