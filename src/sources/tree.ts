/**
 * Scan, copy and hash a source tree. Every source kind ends here: a staged
 * tree (the user's folder, a git checkout, an extracted archive) is checked
 * (no special files, no links out of the tree, no link loops), copied into a
 * fresh folder in a chosen creation order, and hashed from the copy.
 */
import { constants, type Dirent } from 'node:fs';
import {
  chmod,
  copyFile,
  lstat,
  lutimes,
  mkdir,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  symlink,
  utimes,
} from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isWithin, linkStaysInside } from '../archive/containment.js';
import { sha256Bytes, sha256File } from '../util/sha256.js';
import type { ExcludeMatcher } from '../vocabulary/exclude.js';
import { SourceError } from './errors.js';
import { type CreationOrder, comparePaths, orderEntries } from './order.js';

export type TreeEntry =
  | { rel: string; kind: 'dir' }
  | { rel: string; kind: 'file'; exec: boolean }
  | { rel: string; kind: 'symlink'; target: string };

export interface ScanOptions {
  /** Names skipped at any depth (".git", "node_modules"). */
  skipNames?: ReadonlySet<string>;
  exclude?: ExcludeMatcher;
  /** Absolute paths never entered (the copy's own folder when it lies inside the source). */
  skipPaths?: readonly string[];
  /** How the tree is named in messages ("source folder /x", "tarball …"). */
  label?: string;
  signal?: AbortSignal;
}

const HINT_LINKS = "remove or replace the link, or add it to the board's source.exclude";

/** Every entry under `root` (not `root` itself), checked; paths use "/" and are sorted. */
export async function scanTree(root: string, opts: ScanOptions = {}): Promise<TreeEntry[]> {
  const label = opts.label ?? root;
  let realRoot: string;
  try {
    realRoot = await realpath(root);
    if (!(await lstat(realRoot)).isDirectory()) throw new Error('not a folder');
  } catch (err) {
    throw new SourceError(`source ${label} is not a readable folder`, 'check source.path in the board file', {
      cause: err,
    });
  }
  const skipPaths = (opts.skipPaths ?? []).map((p) => resolve(p));
  const entries: TreeEntry[] = [];

  async function walk(dirAbs: string, dirRel: string): Promise<void> {
    opts.signal?.throwIfAborted();
    let dirents: Dirent[];
    try {
      dirents = await readdir(dirAbs, { withFileTypes: true });
    } catch (err) {
      throw new SourceError(`cannot read ${label}/${dirRel}: ${(err as Error).message}`, undefined, {
        cause: err,
      });
    }
    for (const d of dirents) {
      const name = d.name;
      const abs = join(dirAbs, name);
      const rel = dirRel === '' ? name : `${dirRel}/${name}`;
      if (opts.skipNames?.has(name)) continue;
      if (skipPaths.some((p) => p === abs)) continue;
      const st = await lstat(abs);
      if (opts.exclude?.(rel, st.isDirectory())) continue;
      if (st.isDirectory()) {
        entries.push({ rel, kind: 'dir' });
        await walk(abs, rel);
      } else if (st.isFile()) {
        entries.push({ rel, kind: 'file', exec: (st.mode & 0o111) !== 0 });
      } else if (st.isSymbolicLink()) {
        const target = await readlink(abs);
        await checkLink(realRoot, label, abs, rel, target);
        entries.push({ rel, kind: 'symlink', target });
      } else {
        const what = st.isFIFO() ? 'a named pipe' : st.isSocket() ? 'a socket' : 'a device file';
        throw new SourceError(
          `${label}: ${rel} is ${what}; sources may hold only files, folders and symlinks`,
          HINT_LINKS.replace('link', 'file'),
        );
      }
    }
  }

  await walk(realRoot, '');
  return entries.sort((a, b) => comparePaths(a.rel, b.rel));
}

/** A symlink must stay inside the source, resolve without a loop, and not point to a folder that holds it. */
async function checkLink(
  realRoot: string,
  label: string,
  abs: string,
  rel: string,
  target: string,
): Promise<void> {
  const where = `${label}: symlink ${rel} -> ${target}`;
  if (!linkStaysInside(rel, target))
    throw new SourceError(
      `${where} points outside the source${isAbsolute(target) ? ' (absolute target)' : ''}`,
      HINT_LINKS,
    );
  let resolved: string;
  try {
    resolved = await realpath(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new SourceError(`${where} is a symlink loop`, HINT_LINKS);
    if (code === 'ENOENT' || code === 'ENOTDIR') return; // dangling but inside: copied as is
    throw err;
  }
  if (!isWithin(realRoot, resolved)) throw new SourceError(`${where} points outside the source`, HINT_LINKS);
  // A link to one of its own ancestor folders makes the tree infinite for anyone who follows links.
  const st = await lstat(resolved);
  if (st.isDirectory() && isWithin(resolved, join(realRoot, dirname(rel)))) {
    throw new SourceError(`${where} is a symlink loop (it points to a folder that contains it)`, HINT_LINKS);
  }
}

export interface CopyOptions {
  /** 'as-given' keeps the order of `entries` (already ordered by the caller). */
  order?: CreationOrder | 'as-given';
  seed?: number;
  /**
   * Move files and links out of `from` instead of copying them (for private
   * staging folders on the same file system: a rename per entry instead of a
   * data copy; the entries still appear in the new folders in the chosen order).
   */
  move?: boolean;
  /** mtime (seconds) given to every copied entry, so host checkout times never reach a build. */
  mtime?: number;
  signal?: AbortSignal;
}

/**
 * Copy `entries` from `from` into `into` (created, must not hold anything) in
 * the requested creation order. Modes are normalised (0755 for folders and
 * executables, 0644 otherwise) and every mtime is set to one value.
 */
export async function copyTree(
  from: string,
  entries: readonly TreeEntry[],
  into: string,
  opts: CopyOptions = {},
): Promise<void> {
  await mkdir(into, { recursive: true });
  const existing = await readdir(into);
  if (existing.length > 0)
    throw new SourceError(`cannot copy the source into ${into}: the folder is not empty`);
  const made = new Set<string>([into]);
  const ensureDir = async (dir: string): Promise<void> => {
    if (made.has(dir)) return;
    await mkdir(dir, { recursive: true });
    // mkdir -p makes every missing ancestor: remember them all.
    for (let d = dir; d.length > into.length && !made.has(d); d = dirname(d)) made.add(d);
  };
  const order = opts.order ?? 'sorted';
  for (const e of order === 'as-given' ? entries : orderEntries(entries, order, opts.seed ?? 0)) {
    opts.signal?.throwIfAborted();
    const dest = join(into, e.rel);
    if (e.kind === 'dir') {
      await ensureDir(dest);
    } else if (e.kind === 'file') {
      await ensureDir(dirname(dest));
      if (!(opts.move && (await moved(join(from, e.rel), dest))))
        await copyFile(join(from, e.rel), dest, constants.COPYFILE_EXCL);
      await chmod(dest, e.exec ? 0o755 : 0o644);
    } else {
      await ensureDir(dirname(dest));
      if (!(opts.move && (await moved(join(from, e.rel), dest)))) await symlink(e.target, dest);
    }
  }
  // Times and folder modes last: creating entries changes the parent folder's mtime.
  const when = opts.mtime ?? 1;
  for (const e of entries) {
    const dest = join(into, e.rel);
    if (e.kind === 'file') await utimes(dest, when, when);
    else if (e.kind === 'symlink') await lutimes(dest, when, when);
  }
  const dirs = entries.filter((e) => e.kind === 'dir').map((e) => e.rel);
  dirs.sort((a, b) => comparePaths(b, a)); // deepest first
  for (const rel of [...dirs, '']) {
    const dest = join(into, rel);
    await chmod(dest, 0o755);
    await utimes(dest, when, when);
  }
}

/** rename(), or false when `from` and `to` are on different file systems. */
async function moved(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EXDEV') return false;
    throw err;
  }
}

/** Small files are read whole; bigger ones streamed. */
async function hashFile(path: string): Promise<string> {
  const st = await lstat(path);
  return st.size < 1024 * 1024 ? sha256Bytes(await readFile(path)) : sha256File(path);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The canonical listing of a tree: one line per entry, sorted by path bytes.
 *   dir  "<path>"
 *   file <0|1 exec> <sha256> "<path>"
 *   link "<target>" "<path>"
 * Paths are JSON strings so names with spaces or newlines stay unambiguous.
 * Nothing about where or when the tree was made (folder, mtimes, owner) is in it.
 */
export async function treeListing(root: string, entries: readonly TreeEntry[]): Promise<string> {
  const sorted = [...entries].sort((a, b) => comparePaths(a.rel, b.rel));
  const lines = await mapLimit(sorted, 8, async (e) => {
    const p = JSON.stringify(e.rel);
    if (e.kind === 'dir') return `dir ${p}\n`;
    if (e.kind === 'symlink') return `link ${JSON.stringify(e.target)} ${p}\n`;
    return `file ${e.exec ? 1 : 0} ${await hashFile(join(root, e.rel))} ${p}\n`;
  });
  return lines.join('');
}

/** The source hash: sha256 of the canonical listing. */
export async function treeHash(root: string, entries: readonly TreeEntry[]): Promise<string> {
  return sha256Bytes(await treeListing(root, entries));
}
