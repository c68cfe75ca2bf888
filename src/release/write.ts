/**
 * Turns a reproducible multi-run build into a release folder: the ROMs, a
 * sha256sum list, a release manifest and one provenance statement per board.
 * The folder is assembled under a temporary name and appears in one rename.
 */
import { copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { formatHashesTxt } from '../hashes/hashesTxt.js';
import { type Manifest, readManifest } from '../hashes/runManifest.js';
import { variedAcross } from '../plan/variations.js';
import { formatStatement, provenanceStatement } from '../provenance/statement.js';
import { tempSibling, writeFileAtomic } from '../util/atomic.js';
import { BuildFailedError, MismatchError, UsageError } from '../util/errors.js';
import { sha256Bytes, sha256File } from '../util/sha256.js';
import { toolVersion } from '../util/version.js';
import { envelopePath } from './dsse.js';
import {
  formatReleaseManifest,
  RELEASE_HASHES,
  RELEASE_MANIFEST,
  RELEASE_SCHEMA,
  type ReleaseBoard,
  type ReleaseManifest,
} from './releaseManifest.js';
import { SIGNATURE_EXT } from './sign.js';

export const BOARD_HASHES = 'hashes.txt';
export const BOARD_PROVENANCE = 'provenance.json';

/** A board's runs, as manifests of its run folders (index order). */
export interface BoardRuns {
  board: string;
  runDirs: string[];
}

/** `artifacts/out/bios.bin` → `out/bios.bin`: the ROM's path inside its board folder. */
export function releasePath(runArtifactPath: string): string {
  return runArtifactPath.replace(/^artifacts\//, '');
}

/** Refuses unless there are ≥2 runs and every run lists the same bytes for every artifact. */
export function checkReproducible(board: string, manifests: readonly Manifest[]): void {
  if (manifests.length < 2) {
    throw new MismatchError(
      `board ${board} has ${manifests.length} successful run(s); a release needs at least 2 that agree`,
      'run `reprorom release` with --runs 2 or more',
    );
  }
  const paths = new Set([...manifests.flatMap((m) => m.artifacts.map((a) => a.path))]);
  for (const path of [...paths].sort()) {
    const hashes = manifests.map((m) => m.artifacts.find((a) => a.path === path)?.sha256 ?? 'absent');
    if (new Set(hashes).size > 1) {
      throw new MismatchError(
        `not reproducible: ${board} ${releasePath(path)} differs between runs (${hashes.map((h, i) => `run ${manifests[i]?.run.index}: ${h}`).join(', ')}); nothing was released`,
        'the diff report of the build (printed above, also `reprorom compare RUN_FOLDER`) shows why; fix the board, then release again',
      );
    }
  }
}

/** Refuse an existing, non-empty output folder before spending minutes building. */
export async function checkOutFree(out: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') entries = ['(a file)'];
    else throw err;
  }
  if (entries.length > 0) {
    throw new UsageError(
      `release folder ${out} already exists and is not empty`,
      'releases are never overwritten: choose a new --out folder or remove the old one',
    );
  }
}

/**
 * What a release (and `sign`) writes in each board folder beside its artifacts: an artifact
 * of that name would be overwritten, and the manifest would name one path twice.
 */
function boardFileNames(): Set<string> {
  const own = [BOARD_HASHES, BOARD_PROVENANCE, envelopePath(BOARD_PROVENANCE)];
  return new Set(own.flatMap((f) => [f, ...Object.values(SIGNATURE_EXT).map((ext) => `${f}${ext}`)]));
}

async function boardEntry(
  tmp: string,
  board: string,
  manifests: readonly Manifest[],
  runDir: string,
): Promise<{ entry: ReleaseBoard; lines: Array<{ path: string; sha256: string }> }> {
  const ref = manifests[0]!;
  const artifacts: ReleaseBoard['artifacts'] = [];
  for (const a of ref.artifacts) {
    const rel = releasePath(a.path);
    const target = join(tmp, board, rel);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(join(runDir, a.path), target);
    // The copy is hashed again: a release must never list bytes it does not hold.
    const actual = await sha256File(target);
    if (actual !== a.sha256) {
      throw new BuildFailedError(
        `${join(runDir, a.path)} has sha256 ${actual}, but its run recorded ${a.sha256}`,
        'the run folder was changed after the build: build again',
      );
    }
    artifacts.push({ path: `${board}/${rel}`, sha256: a.sha256, size: a.size });
  }
  const local = ref.artifacts.map((a) => ({ path: releasePath(a.path), sha256: a.sha256 }));
  // What the agreeing runs really varied, from what each recorded: empty says nothing was.
  const varied = variedAcross(
    manifests.map((m) => ({
      variation: m.variations,
      ...(m.variations.notApplied ? { notApplied: m.variations.notApplied } : {}),
    })),
  );
  await writeFileAtomic(join(tmp, board, BOARD_HASHES), formatHashesTxt(local));
  const statement = formatStatement(
    provenanceStatement(
      ref,
      local.map((l) => ({ name: l.path, digest: { sha256: l.sha256 } })),
      varied,
    ),
  );
  await writeFileAtomic(join(tmp, board, BOARD_PROVENANCE), statement);
  const entry: ReleaseBoard = {
    board,
    image: ref.image,
    pin: ref.pin,
    extraPins: ref.extraPins,
    source: ref.source,
    commands: ref.commands,
    sourceDateEpoch: ref.sourceDateEpoch,
    reproducedRuns: manifests.length,
    varied,
    hashes: `${board}/${BOARD_HASHES}`,
    provenance: { path: `${board}/${BOARD_PROVENANCE}`, sha256: sha256Bytes(statement) },
    artifacts,
  };
  return { entry, lines: artifacts.map((a) => ({ path: a.path, sha256: a.sha256 })) };
}

export interface WrittenRelease {
  dir: string;
  manifest: ReleaseManifest;
}

/** Check, assemble under a temporary name, then rename into place. */
export async function writeRelease(
  out: string,
  boards: readonly BoardRuns[],
  signal?: AbortSignal,
): Promise<WrittenRelease> {
  const reserved = new Set([RELEASE_MANIFEST, RELEASE_HASHES]);
  const loaded: Array<{ board: string; manifests: Manifest[]; runDirs: string[] }> = [];
  const ownNames = boardFileNames();
  for (const b of boards) {
    if (reserved.has(b.board))
      throw new UsageError(`board name "${b.board}" clashes with a release file name`, 'rename the board');
    const manifests = await Promise.all(b.runDirs.map((d) => readManifest(join(d, 'manifest.json'))));
    const clash = manifests[0]?.artifacts.map((a) => releasePath(a.path)).find((p) => ownNames.has(p));
    if (clash !== undefined)
      throw new UsageError(
        `board ${b.board}'s artifact ${clash} clashes with the file a release writes as ${b.board}/${clash}`,
        `rename the artifact (${[...ownNames].join(', ')} are the release's own names in a board folder)`,
      );
    checkReproducible(b.board, manifests);
    loaded.push({ board: b.board, manifests, runDirs: b.runDirs });
  }
  await checkOutFree(out);
  await mkdir(dirname(out), { recursive: true });
  // mkdir, not mkdtemp: a release is published, so its folder gets the user's umask (0755 under
  // the usual 022), not mkdtemp's private 0700. The random name is as unguessable.
  const tmp = tempSibling(out);
  await mkdir(tmp);
  try {
    const entries: ReleaseBoard[] = [];
    const lines: Array<{ path: string; sha256: string }> = [];
    for (const b of loaded) {
      signal?.throwIfAborted();
      const r = await boardEntry(tmp, b.board, b.manifests, b.runDirs[0]!);
      entries.push(r.entry);
      lines.push(...r.lines);
    }
    const manifest: ReleaseManifest = {
      schema: RELEASE_SCHEMA,
      tool: { name: 'reprorom', version: toolVersion() },
      boards: entries,
    };
    await writeFileAtomic(join(tmp, RELEASE_HASHES), formatHashesTxt(lines));
    await writeFileAtomic(join(tmp, RELEASE_MANIFEST), formatReleaseManifest(manifest));
    // Interrupted before the rename: nothing appears (the temporary folder is removed below).
    // After it, the release is whole and in place, and the caller says so.
    signal?.throwIfAborted();
    // An empty folder left by a user is replaced; a non-empty one makes rename fail (never overwritten).
    await rename(tmp, out);
    return { dir: out, manifest };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
