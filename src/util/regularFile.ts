/**
 * Reading and hashing files that must be regular files. Opening a FIFO blocks a libuv
 * thread for ever (and then even process.exit hangs); reading /dev/zero never ends; a
 * link can lead anywhere. So: the type is checked before opening (lstat, or stat when
 * links may be followed), the file is opened O_NONBLOCK (a FIFO swapped in meanwhile
 * cannot block) and O_NOFOLLOW when links are refused, then fstat'ed again, and reads
 * stop at a cap.
 */
import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, open, stat } from 'node:fs/promises';

/** What a file is, as a person says it: "a named pipe", "a folder", … */
export function fileKind(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** The file is not a regular file (or is missing, or too large): `what` says what it is instead. */
export class IrregularFileError extends Error {
  readonly path: string;
  /** "is a named pipe", "does not exist", "is 3 GB, more than the 1 MiB accepted", … */
  readonly what: string;
  /** Set when the file is refused for its size alone. */
  readonly tooLarge: number | undefined;
  constructor(path: string, what: string, tooLarge?: number) {
    super(`${path} ${what}`);
    this.name = 'IrregularFileError';
    this.path = path;
    this.what = what;
    this.tooLarge = tooLarge;
  }
}

export interface RegularFileOptions {
  /** Follow symbolic links to a regular file (a path the user gave); false: a link is refused. */
  followLinks: boolean;
}

const errnoWhat = (err: unknown): string | undefined => {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'does not exist';
    case 'ENOTDIR':
      return 'does not exist (a parent is not a folder)';
    case 'ELOOP':
      return 'is a symbolic link';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)';
    default:
      return undefined;
  }
};

/** Opens a regular file for reading, or throws IrregularFileError saying what it is instead. */
export async function openRegularFile(
  path: string,
  opts: RegularFileOptions,
): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    const before = await (opts.followLinks ? stat(path) : lstat(path));
    if (!before.isFile()) throw new IrregularFileError(path, `is ${fileKind(before)}`);
    handle = await open(
      path,
      constants.O_RDONLY | constants.O_NONBLOCK | (opts.followLinks ? 0 : constants.O_NOFOLLOW),
    );
  } catch (err) {
    const what = errnoWhat(err);
    if (what) throw new IrregularFileError(path, what);
    throw err;
  }
  const st = await handle.stat();
  if (!st.isFile()) {
    await handle.close();
    throw new IrregularFileError(path, `is ${fileKind(st)}`);
  }
  return { handle, size: st.size };
}

/** `1 MiB`, `256 MiB`: caps as people read them. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** The whole of a regular file of at most `max` bytes (a larger one is refused before reading). */
export async function readRegularFile(
  path: string,
  opts: RegularFileOptions & { max: number },
): Promise<Buffer> {
  const { handle, size } = await openRegularFile(path, opts);
  try {
    if (size > opts.max)
      throw new IrregularFileError(
        path,
        `is ${size} bytes, more than the ${formatBytes(opts.max)} accepted`,
        size,
      );
    // Never more than the cap, even if the file grows while it is read.
    const buf = Buffer.alloc(Math.min(size, opts.max) + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got > opts.max)
      throw new IrregularFileError(
        path,
        `grew past the ${formatBytes(opts.max)} accepted while it was read`,
        got,
      );
    return buf.subarray(0, got);
  } finally {
    await handle.close();
  }
}

const CHUNK = 1024 * 1024;

/** sha256 and size of a regular file, read through one handle (what is hashed is what was checked). */
export async function sha256RegularFile(
  path: string,
  opts: RegularFileOptions,
): Promise<{ sha256: string; size: number }> {
  const { handle, size } = await openRegularFile(path, opts);
  try {
    const hash = createHash('sha256');
    // Sized to the file: a 1 MiB buffer per small file would be most of the work (100,000 artifacts).
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, size + 1));
    let total = 0;
    // A regular file ends; a cap at its size when opened (plus one chunk) guards one that keeps growing.
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, total);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > size + CHUNK) throw new IrregularFileError(path, 'keeps growing while it is hashed');
    }
    return { sha256: hash.digest('hex'), size: total };
  } finally {
    await handle.close();
  }
}
