/**
 * The one reader of folders that come from elsewhere (run folders handed to `compare`,
 * `merge` and `report`, downloaded CI artifacts). Such a folder is hostile input: a link in
 * it may point at /etc/shadow or /dev/zero, a FIFO would block the first open for ever, a
 * device never ends. So it is walked with lstat semantics (readdir's own entry types, no
 * link ever followed), anything but regular files and folders is refused by name, and a
 * file is opened without following a link and without blocking, then checked again on the
 * open descriptor before a byte is read (the entry may have been swapped meanwhile).
 */

import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import { type FileHandle, lstat, mkdir, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import {
  IrregularFileError,
  openRegularFile,
  readRegularFile,
  sha256RegularFile,
} from '../util/regularFile.js';

/** How deep a foreign folder may nest: deeper is not a run folder, and no walk recurses for ever. */
const MAX_DEPTH = 64;

/** What a non-regular entry is, as messages name it. */
export type EntryKind =
  | 'a symbolic link'
  | 'a folder'
  | 'a FIFO'
  | 'a socket'
  | 'a block device'
  | 'a character device'
  | 'a special file';

/** An entry of a foreign folder that is not a regular file where one was needed. Exit code 2. */
export class ForeignEntryError extends UsageError {
  constructor(
    readonly path: string,
    readonly kind: EntryKind | 'missing',
    detail = '',
  ) {
    super(
      kind === 'missing'
        ? `${printable(path)} is missing${detail}`
        : `refused ${printable(path)}: it is ${kind}${detail}; folders from elsewhere are read as regular files and folders only`,
      kind === 'missing'
        ? 'the run folder is incomplete or was changed after it was written: copy it again, or rebuild it'
        : 'copy the run folder again as plain files (no links, devices, FIFOs or sockets), or rebuild it',
    );
  }
}

type Typed = Pick<
  Dirent,
  'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isSocket' | 'isBlockDevice' | 'isCharacterDevice'
>;

/** What a non-regular, non-folder entry is. */
function kindOf(e: Typed): EntryKind {
  if (e.isSymbolicLink()) return 'a symbolic link';
  if (e.isDirectory()) return 'a folder';
  if (e.isFIFO()) return 'a FIFO';
  if (e.isSocket()) return 'a socket';
  if (e.isBlockDevice()) return 'a block device';
  if (e.isCharacterDevice()) return 'a character device';
  return 'a special file';
}

/** ` (to TARGET)` for a link, so the message says where it pointed; nothing is followed. */
async function linkDetail(path: string, kind: EntryKind): Promise<string> {
  if (kind !== 'a symbolic link') return '';
  const target = await readlink(path).catch(() => undefined);
  return target === undefined ? '' : ` (to ${printable(target)})`;
}

async function refuse(path: string, e: Typed): Promise<never> {
  const kind = kindOf(e);
  throw new ForeignEntryError(path, kind, await linkDetail(path, kind));
}

export interface ForeignListing {
  /** Regular files below the root, "/"-separated relative paths. */
  files: Set<string>;
  /** Folders below the root (not the root itself), "/"-separated relative paths. */
  folders: Set<string>;
}

/**
 * Every regular file below `root` (a folder from elsewhere), or the first entry that is
 * neither a regular file nor a folder, refused by name. `root` itself must be a folder
 * (not a link to one): callers resolve the argument the user typed before they get here.
 */
export async function walkForeignFolder(root: string): Promise<ForeignListing> {
  const top = await lstat(root).catch(() => undefined);
  if (top === undefined) throw new ForeignEntryError(root, 'missing');
  if (!top.isDirectory()) await refuse(root, top);
  const files = new Set<string>();
  const folders = new Set<string>();
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH)
      throw new UsageError(
        `refused ${printable(dir)}: folders nest deeper than ${MAX_DEPTH} levels`,
        'run folders written by `reprorom build` are a few levels deep; copy the original again',
      );
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const path = join(dir, e.name);
      const name = rel === '' ? e.name : `${rel}/${e.name}`;
      // readdir reports the entry's own type (d_type); an unknown one is asked for without following it.
      const typed: Typed = e.isFile() || e.isDirectory() || e.isSymbolicLink() ? e : await lstat(path);
      if (typed.isFile()) files.add(name);
      else if (typed.isDirectory()) {
        folders.add(name);
        await walk(path, name, depth + 1);
      } else await refuse(path, typed);
    }
  };
  await walk(root, '', 0);
  return { files, folders };
}

/**
 * What lies at `path` without following a link: 'file', 'folder', absent (undefined), or a
 * refusal naming what it is. For single files of a foreign folder (a log, culprits.json).
 */
export async function foreignEntry(path: string): Promise<'file' | 'folder' | undefined> {
  const s = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw err;
  });
  if (s === undefined) return undefined;
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'folder';
  return refuse(path, s);
}

/**
 * Runs one of util/regularFile's readers (no link followed, no FIFO opened, checked again on
 * the open descriptor) on a file of a foreign folder, and names what the file is instead in
 * this module's terms: missing, or refused as a link (with its target), FIFO, device…
 */
async function asForeign<T>(path: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (!(err instanceof IrregularFileError) || err.tooLarge !== undefined) throw err;
    const s = await lstat(path).catch(() => undefined);
    if (s === undefined) throw new ForeignEntryError(path, 'missing');
    if (s.isFile()) throw err;
    return refuse(path, s);
  }
}

/** Opens a regular file of a foreign folder for reading (see asForeign). */
export function openForeignFile(path: string): Promise<{ handle: FileHandle; size: number }> {
  return asForeign(path, () => openRegularFile(path, { followLinks: false }));
}

/** Reads a small regular file of a foreign folder whole, or undefined when it exceeds `maxBytes`. */
export async function readForeignFile(path: string, maxBytes: number): Promise<Buffer | undefined> {
  try {
    return await asForeign(path, () => readRegularFile(path, { followLinks: false, max: maxBytes }));
  } catch (err) {
    if (err instanceof IrregularFileError && err.tooLarge !== undefined) return undefined;
    throw err;
  }
}

/** sha256 of a regular file of a foreign folder (refused by name when it is anything else). */
export async function sha256ForeignFile(path: string): Promise<string> {
  return (await asForeign(path, () => sha256RegularFile(path, { followLinks: false }))).sha256;
}

/** Stream chunk of a copy. */
const CHUNK = 1024 * 1024;

/** Copies one regular file of a foreign folder by content into `to` (which must not exist). */
export async function copyForeignFile(from: string, to: string): Promise<void> {
  const { handle } = await openForeignFile(from);
  await pipeline(
    createReadStream('', { fd: handle, highWaterMark: CHUNK }),
    createWriteStream(to, { flags: 'wx' }),
  );
}

/**
 * Copies the folder `from` (from elsewhere) to `to` as regular files and folders only, by
 * content: the whole folder is walked first, so a refused entry leaves nothing half-copied.
 */
export async function copyForeignFolder(from: string, to: string): Promise<void> {
  const { files } = await walkForeignFolder(from);
  await mkdir(to, { recursive: true });
  const made = new Set<string>();
  for (const rel of [...files].sort()) {
    const slash = rel.lastIndexOf('/');
    if (slash > 0) {
      const folder = rel.slice(0, slash);
      if (!made.has(folder)) {
        await mkdir(join(to, folder), { recursive: true });
        made.add(folder);
      }
    }
    await copyForeignFile(join(from, rel), join(to, rel));
  }
}
