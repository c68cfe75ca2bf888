/**
 * An independent rebuilder's attestation: an in-toto v1 statement whose subjects are
 * the ROMs as rebuilt, and whose predicate ties them to one release (the sha256 of its
 * manifest.json and each board's provenance digest) with a verdict per ROM. Signed
 * into a DSSE envelope with the same code that signs release provenance (release/dsse.ts).
 */
import { createHash } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../image/digest.js';
import { type Ed25519Signer, type Envelope, signEnvelope } from '../release/dsse.js';
import { parseReleaseManifest, RELEASE_MANIFEST, type ReleaseManifest } from '../release/releaseManifest.js';
import { UsageError } from '../util/errors.js';

export const INTOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** Documented in docs/attestation-v1.md. */
export const REBUILD_PREDICATE_TYPE = 'pkg:npm/reprorom#docs/attestation-v1.md';

export type RomVerdict = 'same' | 'different' | 'failed';

export interface RebuildBoard {
  board: string;
  provenanceSha256: string;
  sourceHash: string;
  pinNarHash: string;
  imageId: string;
}

export interface RebuildPredicate {
  builder: { id: string; keyid: string };
  release: { manifestSha256: string; boards: RebuildBoard[] };
  time: string;
  variations: string[];
  roms: Array<{ name: string; expected: string; rebuilt?: string; verdict: RomVerdict }>;
}

export interface RebuildStatement {
  _type: typeof INTOTO_STATEMENT_TYPE;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: typeof REBUILD_PREDICATE_TYPE;
  predicate: RebuildPredicate;
}

export const sha256hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface ReleaseIdentity {
  manifest: ReleaseManifest;
  manifestSha256: string;
}

export async function readReleaseIdentity(releaseDir: string): Promise<ReleaseIdentity> {
  const file = join(releaseDir, RELEASE_MANIFEST);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    throw new UsageError(
      `${file}: cannot read the release manifest`,
      'pass a release folder written by `reprorom release`',
    );
  }
  return { manifest: parseReleaseManifest(bytes.toString('utf8'), file), manifestSha256: sha256hex(bytes) };
}

/**
 * ROM name as attested: the path the release's manifest.json lists it under, which is
 * already BOARD/PATH (release/write.ts); the board is not prefixed a second time.
 */
export const romName = (artifactPath: string) => artifactPath;

/** Hash the rebuilt folder's BOARD/PATH files (regular files only) against the release. */
export async function rebuildStatement(
  release: ReleaseIdentity,
  rebuiltDir: string,
  builder: { id: string; keyid: string },
  variations: string[],
  time: Date,
): Promise<RebuildStatement> {
  const roms: RebuildPredicate['roms'] = [];
  const subject: RebuildStatement['subject'] = [];
  for (const b of release.manifest.boards)
    for (const a of b.artifacts) {
      const name = romName(a.path);
      const file = join(rebuiltDir, a.path);
      let rebuilt: string | undefined;
      try {
        if ((await lstat(file)).isFile()) rebuilt = sha256hex(await readFile(file));
      } catch {
        // missing: the rebuild failed for this ROM
      }
      if (rebuilt === undefined) {
        roms.push({ name, expected: a.sha256, verdict: 'failed' });
        continue;
      }
      roms.push({ name, expected: a.sha256, rebuilt, verdict: rebuilt === a.sha256 ? 'same' : 'different' });
      subject.push({ name, digest: { sha256: rebuilt } });
    }
  return {
    _type: INTOTO_STATEMENT_TYPE,
    subject,
    predicateType: REBUILD_PREDICATE_TYPE,
    predicate: {
      builder,
      release: {
        manifestSha256: release.manifestSha256,
        boards: release.manifest.boards.map((b) => ({
          board: b.board,
          provenanceSha256: b.provenance.sha256,
          sourceHash: b.source.hash,
          pinNarHash: b.pin.narHash,
          imageId: b.image.id,
        })),
      },
      time: time.toISOString(),
      variations,
      roms,
    },
  };
}

export function signStatement(s: RebuildStatement, key: Ed25519Signer): Envelope {
  return signEnvelope(Buffer.from(canonicalJson(s), 'utf8'), key);
}
