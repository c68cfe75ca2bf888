/**
 * k-of-n: a ROM is accepted when at least K attestations, signed by K distinct trusted
 * keys with K distinct builder ids, attest exactly its sha256 for exactly this release.
 * Everything else counts as not agreeing, with its reason; a trusted rebuilder that
 * attests other bytes is a disagreement, which fails the verdict unless allowed.
 */
import { type Ed25519Key, ed25519PublicKeys, verifyEnvelope } from '../release/dsse.js';
import { INTOTO_STATEMENT_TYPE, REBUILD_PREDICATE_TYPE, type ReleaseIdentity, romName } from './statement.js';

/** Envelopes bigger than this are refused unread (a statement of a few ROMs is a few kB). */
export const MAX_ATTESTATION_BYTES = 1024 * 1024;

export interface TrustedBuilder {
  builderId: string;
  key: Ed25519Key;
}

/** `builder-id ssh-ed25519 AAAA… [comment]` per line, as in an allowed_signers file. */
export function parseTrust(text: string): TrustedBuilder[] {
  const out: TrustedBuilder[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const [id] = t.split(/\s+/);
    const [key] = ed25519PublicKeys(t);
    if (id && key) out.push({ builderId: id, key });
  }
  return out;
}

export interface AttestationInput {
  file: string;
  bytes: Buffer;
}

export interface Counted {
  file: string;
  builderId?: string;
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
  const signer = trust.find((t) => t.key.keyid === env.keyid);
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
  if (s._type !== INTOTO_STATEMENT_TYPE || s.predicateType !== REBUILD_PREDICATE_TYPE)
    return bad(`not a ${REBUILD_PREDICATE_TYPE} in-toto statement`);
  const id = s.predicate?.builder?.id;
  if (!signer || id !== signer.builderId)
    return bad(`builder id ${JSON.stringify(id)} is not the one trusted for key ${env.keyid}`);
  if (s.predicate?.release?.manifestSha256 !== release.manifestSha256)
    return bad('attests another release (manifest sha256 differs)', signer.builderId);
  if (maxAgeMs !== undefined) {
    const t = Date.parse(String(s.predicate?.time));
    if (!Number.isFinite(t) || now.getTime() - t > maxAgeMs)
      return bad('older than --max-age', signer.builderId);
  }
  if (!Array.isArray(s.subject)) return bad('no subjects', signer.builderId);
  const roms = new Map<string, string>();
  for (const sub of s.subject as Array<{ name?: unknown; digest?: { sha256?: unknown } }>) {
    if (typeof sub?.name !== 'string' || typeof sub.digest?.sha256 !== 'string')
      return bad('malformed subject', signer.builderId);
    if (roms.has(sub.name)) return bad(`ROM ${sub.name} is named twice in the subjects`, signer.builderId);
    roms.set(sub.name, sub.digest.sha256);
  }
  return { file: input.file, builderId: signer.builderId, roms };
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
  const seen = new Set<string>();
  for (const c of counted) {
    if (c.reason || !c.builderId) continue;
    if (seen.has(c.builderId)) {
      c.reason = `duplicate: builder ${c.builderId} already counted`;
      c.roms = new Map();
    } else seen.add(c.builderId);
  }
  const roms: RomAgreement[] = [];
  for (const b of release.manifest.boards)
    for (const a of b.artifacts) {
      const rom = romName(b.board, a.path);
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
