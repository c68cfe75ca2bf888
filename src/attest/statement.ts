/**
 * An independent rebuilder's attestation: an in-toto v1 statement whose subjects are
 * the ROMs as rebuilt, and whose predicate ties them to one release (the sha256 of its
 * manifest.json and each board's provenance digest) with a verdict per ROM. Signed
 * into a DSSE envelope with the same code that signs release provenance (release/dsse.ts).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ForeignEntryError, sha256ForeignFile, walkForeignFolder } from '../archive/foreignFolder.js';
import { MAX_INPUT_BYTES } from '../hashes/limits.js';
import { canonicalJson } from '../image/digest.js';
import { PROJECT_REPOSITORY } from '../provenance/statement.js';
import { type Ed25519Signer, type Envelope, signEnvelope } from '../release/dsse.js';
import { parseReleaseManifest, RELEASE_MANIFEST, type ReleaseManifest } from '../release/releaseManifest.js';
import { UsageError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { IrregularFileError, readRegularFile } from '../util/regularFile.js';

export const INTOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const REBUILD_PREDICATE_DOC = 'docs/attestation-v1.md';
/**
 * Documented in docs/attestation-v1.md. Named under the project's own repository URL, like
 * the provenance's build type: a registry package name (`pkg:npm/reprorom`) could be
 * claimed by anyone, reprorom not being on the npm registry.
 */
export const REBUILD_PREDICATE_TYPE = `${PROJECT_REPOSITORY}/blob/main/${REBUILD_PREDICATE_DOC}` as const;

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
    // Capped and regular only: a manifest.json that is a FIFO, a link or 3 GB is no release.
    bytes = await readRegularFile(file, { followLinks: false, max: MAX_INPUT_BYTES });
  } catch (err) {
    throw new UsageError(
      `${printable(file)}: cannot read the release manifest${err instanceof IrregularFileError ? ` (it ${err.what})` : ''}`,
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

/** ROM name → sha256 as rebuilt, for ROMs already hashed elsewhere (a run folder's manifest, checked). */
export type RebuiltRoms = ReadonlyMap<string, string>;

/**
 * ROM name → sha256 of the files of a rebuilt folder laid out like the release (BOARD/PATH).
 * The folder is walked with the foreign-folder reader first: a link, FIFO, device or socket
 * anywhere in it is refused by name, never followed or opened. Each ROM is hashed streaming
 * (a ROM of gigabytes is never read whole); a ROM that is not there is left out (its rebuild
 * failed), and a folder where a ROM should be is refused.
 */
export async function hashRebuiltFolder(release: ReleaseIdentity, dir: string): Promise<RebuiltRoms> {
  const { files, folders } = await walkForeignFolder(dir);
  const out = new Map<string, string>();
  for (const b of release.manifest.boards)
    for (const a of b.artifacts) {
      if (files.has(a.path)) out.set(romName(a.path), await sha256ForeignFile(join(dir, a.path)));
      else if (folders.has(a.path))
        throw new ForeignEntryError(join(dir, a.path), 'a folder', ', but the release lists it as a ROM');
    }
  return out;
}

/** The statement of a rebuild: each ROM of the release, as rebuilt (absent: the rebuild failed). */
export async function rebuildStatement(
  release: ReleaseIdentity,
  rebuiltRoms: RebuiltRoms,
  builder: { id: string; keyid: string },
  variations: string[],
  time: Date,
): Promise<RebuildStatement> {
  const roms: RebuildPredicate['roms'] = [];
  const subject: RebuildStatement['subject'] = [];
  for (const b of release.manifest.boards)
    for (const a of b.artifacts) {
      const name = romName(a.path);
      const rebuilt = rebuiltRoms.get(name);
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
