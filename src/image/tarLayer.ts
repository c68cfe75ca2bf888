/**
 * Writes one image layer as a normalized tar, streamed from disk to disk and
 * hashed in the same pass (sha256 of the uncompressed tar = diff_id = the
 * layer's digest). A multi-gigabyte layer never sits in memory: each file is
 * piped from a read stream into its tar entry.
 *
 * Normalization (every rule is tested in test/unit/image-tar.test.ts):
 * - order: depth-first, each folder's children sorted bytewise (GNU tar's
 *   --sort=name), so a folder always comes before what it holds;
 * - mtime fixed (1, or the caller's SOURCE_DATE_EPOCH-like value), uid/gid 0,
 *   empty uname/gname, plain ustar headers (a pax record only carries a long or
 *   non-ASCII path or link target, never atime/ctime);
 * - modes: store content is read-only, as in /nix/store: folders 0555, files
 *   0555 when the owner, group or others may execute them, else 0444. Trees
 *   marked `writable` get 0755 / 0755 / 0644 instead. Symlinks are 0777;
 * - symlinks stay symlinks, with their target as written on disk;
 * - hard links are written as regular files, each with its full content: the
 *   nix store optimiser hard-links identical files across store paths, which
 *   can end up in different layers, where a tar hard link could not point;
 * - sockets, devices and fifos are refused.
 */
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { checkRelativeName } from '../archive/containment.js';
import { ImageBuildError } from '../util/errors.js';
import { hexOf } from './digest.js';
import { type TarWriter, writeTarFile } from './tarWriter.js';

/** One entry of a layer. Names are relative (`nix/store/…`), without a trailing slash. */
export type LayerEntry =
  | { name: string; type: 'dir'; mode?: number; uid?: number; gid?: number }
  | { name: string; type: 'symlink'; target: string }
  | { name: string; type: 'file'; mode: number; source: string; size: number }
  | { name: string; type: 'data'; mode: number; data: Buffer };

/** A file or folder on disk copied to `imagePath` in the image (e.g. /tmp/x/busybox → nix/store/…-busybox). */
export interface TreeSource {
  hostPath: string;
  /** Where it appears in the image; a leading `/` is ignored. */
  imagePath: string;
  /** `store` (default): read-only modes as in /nix/store. `writable`: 0755/0644. */
  modes?: 'store' | 'writable';
}

export interface WrittenBlob {
  /** sha256:<hex> of the bytes written. */
  digest: string;
  size: number;
  /** Where the blob is on disk (`<dir>/<hex>`). */
  path: string;
}

export interface WriteLayerOptions {
  /** Seconds since the epoch for every entry's mtime (SOURCE_DATE_EPOCH); default 1. */
  mtime?: number;
  signal?: AbortSignal;
}

export const FIXED_MTIME = 1;
/** Mode of the folders leading to a tree (nix, nix/store). */
export const PARENT_DIR_MODE = 0o755;

/** Compares two relative paths component by component, bytewise: the order entries are written in. */
export function pathOrder(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = Buffer.compare(Buffer.from(pa[i]!), Buffer.from(pb[i]!));
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

function normalizeImagePath(p: string): string {
  const name = p.replace(/^\/+/, '').replace(/\/+$/, '');
  if (!checkRelativeName(name, { normalized: true }).ok) {
    throw new ImageBuildError(
      `"${p}" is not a valid path inside an image`,
      'use an absolute path without . or .. parts, such as /nix/store/…-name',
    );
  }
  return name;
}

function modeFor(kind: 'dir' | 'file', hostMode: number, scheme: 'store' | 'writable'): number {
  const exec = kind === 'dir' || (hostMode & 0o111) !== 0;
  if (scheme === 'store') return exec ? 0o555 : 0o444;
  return exec ? 0o755 : 0o644;
}

/** Host names are bytes; layer names are UTF-8 (pax), so refuse names that are not valid UTF-8. */
function childName(raw: Buffer, parentHost: string): string {
  const name = raw.toString('utf8');
  if (!Buffer.from(name, 'utf8').equals(raw)) {
    throw new ImageBuildError(
      `${join(parentHost, raw.toString('latin1'))} has a file name that is not valid UTF-8`,
      'rename the file; image layers are written with UTF-8 names',
    );
  }
  return name;
}

/** Entries of one tree (a store path), depth-first, each folder's children sorted bytewise. */
export function* walkTree(src: TreeSource): Generator<LayerEntry> {
  const scheme = src.modes ?? 'store';
  const name = normalizeImagePath(src.imagePath);
  yield* walkEntry(src.hostPath, name, lstatSync(src.hostPath), scheme);
}

// Synchronous calls on purpose: see tarWriter.ts (thread-pool round trips per file dominated).
function* walkEntry(
  host: string,
  name: string,
  st: Stats,
  scheme: 'store' | 'writable',
): Generator<LayerEntry> {
  if (st.isSymbolicLink()) {
    yield { name, type: 'symlink', target: readlinkSync(host) };
  } else if (st.isFile()) {
    yield { name, type: 'file', mode: modeFor('file', st.mode, scheme), source: host, size: st.size };
  } else if (st.isDirectory()) {
    yield { name, type: 'dir', mode: modeFor('dir', st.mode, scheme) };
    const raw = readdirSync(host, { encoding: 'buffer' });
    raw.sort(Buffer.compare);
    for (const r of raw) {
      const child = childName(r, host);
      const childHost = join(host, child);
      yield* walkEntry(childHost, `${name}/${child}`, lstatSync(childHost), scheme);
    }
  } else {
    throw new ImageBuildError(
      `${host} is a socket, device or fifo; it cannot go into an image layer`,
      'remove it from the tree, or leave that path out of the image',
    );
  }
}

/** The folders that lead to a path: `nix/store/x` → `nix`, `nix/store`. */
export function parentDirs(imagePath: string): string[] {
  const parts = imagePath.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/**
 * Entries of a layer holding whole trees (store paths), each preceded by the
 * folders leading to it (`nix`, `nix/store`, emitted once, mode 0755).
 */
export function* treesLayer(sources: readonly TreeSource[]): Generator<LayerEntry> {
  const sorted = sources
    .map((s) => ({ ...s, imagePath: normalizeImagePath(s.imagePath) }))
    .sort((a, b) => pathOrder(a.imagePath, b.imagePath));
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!.imagePath;
    const cur = sorted[i]!.imagePath;
    if (cur === prev || cur.startsWith(`${prev}/`)) {
      throw new ImageBuildError(
        `two trees overlap in one layer: ${prev} and ${cur}`,
        'give each layer trees that do not contain each other',
      );
    }
  }
  const emitted = new Set<string>();
  for (const src of sorted) {
    for (const dir of parentDirs(src.imagePath)) {
      if (emitted.has(dir)) continue;
      emitted.add(dir);
      yield { name: dir, type: 'dir', mode: PARENT_DIR_MODE };
    }
    yield* walkTree(src);
  }
}

/** Refuses entries out of order, twice, or before their folder: the layer would not be normalized. */
function orderChecker(): (e: LayerEntry) => void {
  let last: string | undefined;
  const dirs = new Set<string>();
  return (e) => {
    if (e.name !== normalizeImagePath(e.name)) {
      throw new ImageBuildError(
        `layer entry "${e.name}" is not a normalized relative path`,
        'report this as a bug in reprorom',
      );
    }
    if (last !== undefined && pathOrder(last, e.name) >= 0) {
      throw new ImageBuildError(
        `layer entries out of order: "${e.name}" after "${last}"`,
        'report this as a bug in reprorom',
      );
    }
    const slash = e.name.lastIndexOf('/');
    if (slash > 0 && !dirs.has(e.name.slice(0, slash))) {
      throw new ImageBuildError(
        `layer entry "${e.name}" comes without its folder`,
        'report this as a bug in reprorom',
      );
    }
    if (e.type === 'dir') dirs.add(e.name);
    last = e.name;
  };
}

function addEntry(tar: TarWriter, e: LayerEntry, mtime: number): Promise<void> {
  const base = { name: e.name, mtime, uid: 0, gid: 0 };
  switch (e.type) {
    case 'dir':
      return tar.header({
        ...base,
        type: 'directory',
        mode: e.mode ?? 0o755,
        uid: e.uid ?? 0,
        gid: e.gid ?? e.uid ?? 0,
        size: 0,
      });
    case 'symlink':
      return tar.header({ ...base, type: 'symlink', mode: 0o777, size: 0, linkname: e.target });
    case 'data':
      return tar.data({ ...base, mode: e.mode }, e.data);
    case 'file':
      return tar.file({ ...base, mode: e.mode, size: e.size }, e.source);
  }
}

/**
 * Write the entries as a tar into `dir/<hex>` (the OCI blob name), through a
 * temp file in the same folder, so a blob is either complete or absent. The
 * sha256 is computed while writing.
 */
export async function writeLayer(
  entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>,
  dir: string,
  opts: WriteLayerOptions = {},
): Promise<WrittenBlob> {
  opts.signal?.throwIfAborted();
  const mtime = opts.mtime ?? FIXED_MTIME;
  if (!Number.isInteger(mtime) || mtime < 0) {
    throw new ImageBuildError(
      `layer mtime ${mtime} is not a whole number of seconds`,
      'pass SOURCE_DATE_EPOCH as an integer',
    );
  }
  const check = orderChecker();
  return writeTarFile(
    join(dir, 'layer'),
    { signal: opts.signal },
    async (tar) => {
      for await (const e of entries) {
        check(e);
        await addEntry(tar, e, mtime);
        await tar.breathe();
      }
    },
    ({ digest }) => join(dir, hexOf(digest)),
  );
}
