/**
 * The local copies of a listed set's artifacts: keys by file name, the run folder's or the
 * list's folder walked once and every copy there hashed, so a file edited after its list
 * was written compares by what it holds now. Paths go through the containment check.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { isWithin, safeJoin } from '../archive/containment.js';
import { ForeignEntryError, sha256ForeignFile, walkForeignFolder } from '../archive/foreignFolder.js';
import { baseName } from '../hashes/artifactPath.js';
import { MANIFEST_FILE } from '../hashes/runManifest.js';
import type { ArtifactHash, HashSet } from './model.js';

export const display = (p: string) => {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
};

/** What lies at `path`; links are followed only for the arguments the user typed (`follow`). */
export async function kind(path: string, follow = false): Promise<'file' | 'dir' | undefined> {
  try {
    const s = follow ? await stat(path) : await lstat(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Key by file name, falling back to the path below artifacts/ for names that occur twice. Keys are
 * added in place (a million lines must not be copied once per step); when no name repeats, the map
 * of names built to find repeats is also the set's map by key, returned so it is not built twice.
 */
export function assignKeys<T extends { path: string }>(
  items: T[],
): { keyed: Array<T & { key: string }>; byKey: Map<string, T & { key: string }> | undefined } {
  const keyed = items as Array<T & { key: string }>;
  // null: the name occurs more than once.
  const byName = new Map<string, (T & { key: string }) | null>();
  for (const item of keyed) {
    item.key = baseName(item.path);
    byName.set(item.key, byName.has(item.key) ? null : item);
  }
  if (byName.size === keyed.length) return { keyed, byKey: byName as Map<string, T & { key: string }> };
  for (const item of keyed)
    if (byName.get(item.key) === null) item.key = item.path.replace(/^(\.\/)?(artifacts\/)?/, '');
  return { keyed, byKey: undefined };
}

/** The items as loaded, with their map by key remembered when loading kept every item as it was. */
export async function keyedSet(
  dir: string,
  items: Array<{ path: string; sha256: string }>,
  notes: string[],
  runFolder = false,
): Promise<HashSet['rows']> {
  const { keyed, byKey } = assignKeys(items);
  const artifacts = runFolder
    ? await withRunFiles(dir, keyed, notes)
    : await withLocalFiles(dir, keyed, notes);
  const unchanged = byKey !== undefined && artifacts.every((a, i) => a === keyed[i]);
  return { kind: 'listed', artifacts, byKey: unchanged ? byKey : undefined };
}

/**
 * A board-run folder (BOARD/N, from this machine or elsewhere) and the artifacts its manifest
 * lists. The folder is walked once with the foreign-folder reader: a link, device, FIFO or
 * socket anywhere in it is refused by name. When it carries its artifacts (any of them, or
 * the folder they lie in), each must be there as a regular file, and its bytes are hashed: a
 * file edited since is compared by what it holds now (and can never pass, see compareSets).
 * A run folder without its artifacts (only the manifest was kept) is compared by the hashes
 * the manifest records.
 */
async function withRunFiles(
  dir: string,
  items: Array<{ path: string; sha256: string; key: string }>,
  notes: string[],
): Promise<ArtifactHash[]> {
  // The argument the user typed may be a link (a `latest` link); nothing inside it is followed.
  const root = await realpath(dir).catch(() => resolve(dir));
  const { files, folders } = await walkForeignFolder(root);
  const parent = (p: string) => (p.lastIndexOf('/') < 0 ? '' : p.slice(0, p.lastIndexOf('/')));
  // A file where the manifest places a folder of artifacts (`artifacts` replaced by a file)
  // must not turn the run into a manifest-only one that compares as recorded.
  for (const item of items) {
    for (let p = parent(item.path); p !== ''; p = parent(p))
      if (files.has(p))
        throw new ForeignEntryError(
          join(dir, p),
          'missing',
          ` as a folder: it is a file, but ${MANIFEST_FILE} lists artifacts in it`,
        );
  }
  const carries = items.some((i) => files.has(i.path) || folders.has(parent(i.path)));
  if (!carries) return items;
  const out: ArtifactHash[] = [];
  for (const item of items) {
    const file = join(dir, item.path);
    if (!files.has(item.path)) {
      if (folders.has(item.path))
        throw new ForeignEntryError(file, 'a folder', `, but ${MANIFEST_FILE} lists it as an artifact`);
      throw new ForeignEntryError(file, 'missing', ` (${MANIFEST_FILE} lists it as an artifact)`);
    }
    const actual = await sha256ForeignFile(join(root, item.path));
    if (actual !== item.sha256) {
      notes.push(`${display(file)}: file on disk has sha256 ${actual}, but ${item.sha256} was recorded`);
      out.push({ ...item, sha256: actual, recorded: item.sha256, file });
    } else out.push({ ...item, file });
  }
  return out;
}

/**
 * Hash the local copies: a file edited after its manifest was written must not pass.
 * Each path from the file goes through the containment check, and a folder on the way
 * that leads outside the run folder (a symlink) is not read. Folders are listed once, so
 * a million listed files cost a few directory reads, not a million stat calls. A listed
 * name that is there but is not a regular file (a link, FIFO, device, folder) is refused by
 * name, never followed or opened.
 */
async function withLocalFiles(
  dir: string,
  items: Array<{ path: string; sha256: string; key: string }>,
  notes: string[],
): Promise<ArtifactHash[]> {
  const root = await realpath(dir).catch(() => resolve(dir));
  // Each folder named by the file: contained (or not) and listed once, before any file is read.
  const folders = new Map<string, { path: string; files: Set<string>; others: Set<string> } | undefined>();
  for (const item of items) {
    const slash = item.path.lastIndexOf('/');
    const folder = slash < 0 ? '' : item.path.slice(0, slash);
    if (folders.has(folder)) continue;
    folders.set(folder, await listFolder(dir, root, folder, notes));
  }
  // No listed folder here (a hashes list from another machine): nothing to hash, nothing copied.
  let anyFolder = false;
  for (const f of folders.values()) anyFolder ||= f !== undefined;
  if (!anyFolder) return items;
  const out: ArtifactHash[] = [];
  for (const item of items) {
    const slash = item.path.lastIndexOf('/');
    const listed = folders.get(slash < 0 ? '' : item.path.slice(0, slash));
    const name = item.path.slice(slash + 1);
    // Not a regular file: refused by name (openForeignFile says what it is).
    if (listed?.others.has(name)) await sha256ForeignFile(join(listed.path, name));
    if (!listed?.files.has(name)) {
      out.push(item);
      continue;
    }
    const file = join(listed.path, name);
    const actual = await sha256ForeignFile(file);
    if (actual !== item.sha256) {
      notes.push(`${display(file)}: file on disk has sha256 ${actual}, but ${item.sha256} was recorded`);
      out.push({ ...item, sha256: actual, recorded: item.sha256, file });
    } else out.push({ ...item, file });
  }
  return out;
}

/**
 * The regular files of `folder` (a path from an input file) below `dir`, or undefined when it
 * does not exist or is not inside: the containment check (safeJoin), then its real path, which
 * must not leave the run folder through a symlink. `others`: the entries that are not regular
 * files (by their own type: links are not followed).
 */
export async function listFolder(
  dir: string,
  root: string,
  folder: string,
  notes: string[],
): Promise<{ path: string; files: Set<string>; others: Set<string> } | undefined> {
  const path = folder === '' ? resolve(dir) : safeJoin(resolve(dir), folder);
  if (path === undefined) return undefined;
  const real = await realpath(path).catch(() => undefined);
  if (real === undefined) return undefined;
  if (!isWithin(root, real)) {
    notes.push(`${display(path)}: leads outside ${display(dir)} (a symbolic link): its files were not read`);
    return undefined;
  }
  const entries: Dirent[] = await readdir(path, { withFileTypes: true }).catch(() => []);
  const files = new Set<string>();
  const others = new Set<string>();
  for (const e of entries) (e.isFile() ? files : others).add(e.name);
  return { path, files, others };
}
