/**
 * k-of-n: a ROM is accepted when at least K attestations, signed by K distinct trusted
 * keys with K distinct builder ids, attest exactly its sha256 for exactly this release.
 * Everything else counts as not agreeing, with its reason; a trusted rebuilder that
 * attests other bytes is a disagreement, which fails the verdict unless allowed.
 */
import { type Ed25519Key, ed25519PublicKeys, verifyEnvelope } from '../release/dsse.js';
import { ConfigError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { SHA256_HEX } from '../util/sha256.js';
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

/**
 * The statement of an attestation whose signature holds for the key trusted for the builder
 * id it claims (and which names that key), or why not. What it says about a release is
 * checked by the caller.
 */
export function signedStatement(
  input: AttestationInput,
  trust: TrustedBuilder[],
):
  | { ok: true; statement: Statement; who: { builderId: string; keyid: string } }
  | { ok: false; reason: string; builderId?: string } {
  const bad = (reason: string, builderId?: string) => ({
    ok: false as const,
    reason,
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
  let s: Statement;
  try {
    s = JSON.parse(env.payload.toString('utf8'));
  } catch {
    return bad('the signed statement is not JSON');
  }
  if (typeof s !== 'object' || s === null) return bad('the signed statement is not a JSON object');
  if (s._type !== INTOTO_STATEMENT_TYPE)
    return bad(`not an in-toto v1 statement (_type ${printable(JSON.stringify(s._type) ?? 'missing')})`);
  if (s.predicateType !== REBUILD_PREDICATE_TYPE)
    return bad(
      `unknown predicate type ${printable(JSON.stringify(s.predicateType) ?? 'missing')} (expected ${REBUILD_PREDICATE_TYPE})`,
    );
  const id = s.predicate?.builder?.id;
  // The signature must hold for the key trusted for the builder id the statement claims,
  // not merely for some trusted key (an envelope may carry several signatures).
  const signer = trust.find((t) => t.builderId === id);
  const own = signer ? verifyEnvelope(text.trim(), [signer.key]) : undefined;
  if (!signer || !own?.ok)
    return bad(
      `builder id ${typeof id === 'string' ? JSON.stringify(printable(id)) : 'missing'} is not the one trusted for key ${env.keyid}`,
    );
  const claimedKey = s.predicate?.builder?.keyid;
  if (claimedKey !== signer.key.keyid)
    return bad(
      `the statement names key ${printable(String(claimedKey))}, but ${signer.key.keyid} signed it (builder ${signer.builderId})`,
      signer.builderId,
    );
  return { ok: true, statement: s, who: { builderId: signer.builderId, keyid: signer.key.keyid } };
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
  const signed = signedStatement(input, trust);
  if (!signed.ok) return bad(signed.reason, signed.builderId);
  const { statement: s, who } = signed;
  const refuse = (reason: string): Counted => ({ ...bad(reason), ...who });
  if (s.predicate?.release?.manifestSha256 !== release.manifestSha256)
    return refuse(
      `attests another release (manifest sha256 ${printable(String(s.predicate?.release?.manifestSha256))}, this release's is ${release.manifestSha256})`,
    );
  const otherBoards = boardsProblem(s.predicate.release.boards, release);
  if (otherBoards) return refuse(`attests another release: ${otherBoards}`);
  const time = typeof s.predicate?.time === 'string' ? s.predicate.time : '';
  if (maxAgeMs !== undefined) {
    const t = Date.parse(time);
    if (!Number.isFinite(t)) return refuse('no valid time, and --max-age was given');
    if (t - now.getTime() > CLOCK_SKEW_MS) return refuse(`dated in the future (${printable(time)})`);
    if (now.getTime() - t > maxAgeMs) return refuse(`older than --max-age (${printable(time)})`);
  }
  if (!Array.isArray(s.subject)) return refuse('no subjects');
  const expected = new Map(
    release.manifest.boards.flatMap((b) => b.artifacts.map((a) => [romName(a.path), a.sha256] as const)),
  );
  const roms = new Map<string, string>();
  for (const sub of s.subject as Array<{ name?: unknown; digest?: { sha256?: unknown } } | null>) {
    if (typeof sub?.name !== 'string' || typeof sub.digest?.sha256 !== 'string')
      return refuse('malformed subject');
    const name = printable(sub.name);
    if (roms.has(sub.name)) return refuse(`ROM ${name} is named twice in the subjects`);
    if (!expected.has(sub.name)) return refuse(`names ROM ${name}, which this release does not have`);
    if (!SHA256_HEX.test(sub.digest.sha256))
      return refuse(`the subject digest of ROM ${name} is not a sha256 (64 lowercase hex digits)`);
    roms.set(sub.name, sub.digest.sha256);
  }
  const contradiction = romsProblem(s.predicate.roms, roms, expected);
  if (contradiction) return refuse(contradiction);
  return { file: input.file, ...who, time, roms };
}

/** What the statement may hold, before it is checked field by field. */
export interface Statement {
  _type?: unknown;
  subject?: unknown;
  predicateType?: unknown;
  predicate?: {
    builder?: { id?: unknown; keyid?: unknown };
    release?: { manifestSha256?: unknown; boards?: unknown };
    time?: unknown;
    roms?: unknown;
  };
}

/**
 * Why the predicate's boards are not exactly this release's (a board, its provenance,
 * source, pin or image of another build), or undefined when they are. The manifest sha256
 * already names the release; boards that say otherwise make the statement contradict itself.
 */
function boardsProblem(boards: unknown, release: ReleaseIdentity): string | undefined {
  if (!Array.isArray(boards)) return 'no boards in predicate.release';
  const theirs = new Map<string, Record<string, unknown>>();
  for (const b of boards as unknown[]) {
    const board = (b as { board?: unknown } | null)?.board;
    if (typeof board !== 'string') return 'a board of predicate.release has no name';
    if (theirs.has(board)) return `board ${printable(board)} is named twice`;
    theirs.set(board, b as Record<string, unknown>);
  }
  for (const b of release.manifest.boards) {
    const t = theirs.get(b.board);
    if (!t) return `board ${printable(b.board)} is missing from predicate.release`;
    theirs.delete(b.board);
    const fields: Array<[string, string, string]> = [
      ['provenanceSha256', b.provenance.sha256, 'provenance sha256'],
      ['sourceHash', b.source.hash, 'source hash'],
      ['pinNarHash', b.pin.narHash, 'pin narHash'],
      ['imageId', b.image.id, 'image ID'],
    ];
    for (const [key, ours, what] of fields)
      if (t[key] !== ours)
        return `board ${printable(b.board)} has ${what} ${printable(String(t[key]))}, this release's is ${printable(ours)}`;
  }
  const extra = [...theirs.keys()][0];
  return extra === undefined ? undefined : `board ${printable(extra)} is not in this release`;
}

/**
 * Why predicate.roms contradicts the subjects, or undefined: each ROM's `expected` is this
 * release's sha256, a subject's digest is its `rebuilt`, a ROM without a subject was not
 * rebuilt, and the verdict follows (same / different / failed). A statement that says two
 * things is not counted either way.
 */
export function romsProblem(
  roms: unknown,
  subjects: ReadonlyMap<string, string>,
  expected: ReadonlyMap<string, string>,
): string | undefined {
  if (!Array.isArray(roms)) return 'no roms in the predicate';
  const seen = new Set<string>();
  for (const r of roms as Array<{
    name?: unknown;
    expected?: unknown;
    rebuilt?: unknown;
    verdict?: unknown;
  } | null>) {
    if (typeof r?.name !== 'string') return 'a ROM of the predicate has no name';
    const name = printable(r.name);
    if (seen.has(r.name)) return `ROM ${name} is named twice in the predicate`;
    seen.add(r.name);
    if (!expected.has(r.name)) return `the predicate names ROM ${name}, which this release does not have`;
    if (r.expected !== expected.get(r.name))
      return `attests another release: the predicate expects ROM ${name} to be ${printable(String(r.expected))}, this release says ${expected.get(r.name)}`;
    const subject = subjects.get(r.name);
    const verdict = subject === undefined ? 'failed' : subject === r.expected ? 'same' : 'different';
    if ((r.rebuilt ?? undefined) !== subject || r.verdict !== verdict)
      return `the predicate contradicts the subjects for ROM ${name} (verdict ${printable(String(r.verdict))})`;
  }
  for (const name of subjects.keys())
    if (!seen.has(name)) return `ROM ${printable(name)} is a subject but not in the predicate's roms`;
  return undefined;
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
  // One vote per rebuilder (a trusted key is bound to one builder id, so the builder id names
  // both): a second usable attestation by the same builder is a duplicate and adds no vote.
  // What every one of them attests is kept, so a builder whose attestations contradict each
  // other is a disagreement, never hidden behind the one that happened to be read first.
  const votes = new Map<string, { first: string; roms: Map<string, Set<string>> }>();
  for (const c of counted) {
    if (c.reason || !c.builderId) continue;
    const v = votes.get(c.builderId);
    if (v === undefined) {
      votes.set(c.builderId, {
        first: c.file,
        roms: new Map([...c.roms].map(([rom, sha]) => [rom, new Set([sha])])),
      });
      continue;
    }
    const contradicts: string[] = [];
    for (const [rom, sha] of c.roms) {
      const shas = v.roms.get(rom) ?? new Set<string>();
      if (shas.size > 0 && !shas.has(sha)) contradicts.push(rom);
      v.roms.set(rom, shas.add(sha));
    }
    c.reason = `duplicate: builder ${c.builderId} is already counted (${v.first})${contradicts.length ? `, and this one attests other bytes for ${contradicts.map(printable).join(', ')}: counted as disagreeing` : ''}`;
    c.roms = new Map();
  }
  const roms: RomAgreement[] = [];
  for (const b of release.manifest.boards)
    for (const a of b.artifacts) {
      const rom = romName(a.path);
      const agreeing: string[] = [];
      const disagreeing: RomAgreement['disagreeing'] = [];
      for (const [builderId, v] of votes) {
        const shas = v.roms.get(rom);
        if (shas === undefined) continue;
        // Agreeing only when every attestation of this builder says the release's bytes.
        if (shas.size === 1 && shas.has(a.sha256)) agreeing.push(builderId);
        else for (const sha256 of shas) if (sha256 !== a.sha256) disagreeing.push({ builderId, sha256 });
      }
      const accepted =
        agreeing.length >= threshold && (disagreeing.length === 0 || opts.allowDisagreement === true);
      roms.push({ rom, sha256: a.sha256, agreeing, disagreeing, accepted });
    }
  // Fail closed on a policy that accepts anything: no threshold, more than the trusted
  // rebuilders, or a release without ROMs (every() of nothing is true).
  const possible = threshold >= 1 && threshold <= trust.length && roms.length > 0;
  return { threshold, attestations: counted, roms, ok: possible && roms.every((r) => r.accepted) };
}
