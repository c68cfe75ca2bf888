/**
 * Files and folders named by flags (`--html`, `--junit`, `--out`): checked before any
 * work, written atomically (a temp file then a rename, so nothing half-written stays),
 * and every way the host can refuse them becomes a clear error, never a crash:
 * a folder where a file is wanted or a file where a folder is wanted is a usage error
 * (exit 2); a file system that refuses the write (/proc, read-only, full) is exit 3.
 */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { EnvironmentError, hostFileSystemFault, type ReproromError, UsageError } from '../util/errors.js';

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code;

/** The nearest existing folder above `path` must be a folder: `/etc/passwd/x` is refused here. */
export async function checkParentFolder(path: string, flag: string): Promise<void> {
  for (let p = dirname(resolve(path)); ; p = dirname(p)) {
    const st = await stat(p).catch((err: unknown) => {
      if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') return undefined;
      throw outputError(err, path, flag);
    });
    if (st?.isDirectory()) return;
    if (st)
      throw new UsageError(
        `${flag} ${path}: ${p} is not a folder`,
        'choose a path whose folders exist or can be created',
      );
    if (p === dirname(p)) return;
  }
}

/** Refuse an output file path that can never be written as a file, before any work is done. */
export async function checkOutputFile(path: string, flag: string): Promise<void> {
  const st = await stat(resolve(path)).catch((err: unknown) => {
    if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') return undefined;
    throw outputError(err, path, flag);
  });
  if (st?.isDirectory())
    throw new UsageError(
      `${flag} ${path} is a folder`,
      `give a file name, such as ${path}/${flag === '--html' ? 'index.html' : 'report.xml'}`,
    );
  if (st && !st.isFile())
    throw new UsageError(`${flag} ${path} is not a regular file`, 'give the path of a regular file to write');
  await checkParentFolder(path, flag);
}

/** Write the whole file or nothing; failures named by the flag. */
export async function writeOutputFile(path: string, flag: string, data: string): Promise<void> {
  await checkOutputFile(path, flag);
  try {
    await writeFileAtomic(resolve(path), data);
  } catch (err) {
    throw outputError(err, path, flag);
  }
}

/** A failed write of an output path as the error the user can act on. */
export function outputError(err: unknown, path: string, flag: string): ReproromError | unknown {
  const sys = hostFileSystemFault(err);
  if (sys) return new EnvironmentError(`cannot write ${flag} ${path}: ${sys.message}`, sys.hint);
  switch (codeOf(err)) {
    case 'EISDIR':
    case 'ENOTDIR':
    case 'EEXIST':
      return new UsageError(
        `cannot write ${flag} ${path}: a file or folder is in the way (${codeOf(err)})`,
        'choose another path',
      );
    case 'ENOENT':
    case 'EINVAL':
    case 'ENXIO':
    case 'EXDEV':
    case 'EIO':
    case 'ENAMETOOLONG':
    case 'ELOOP':
      // /proc and similar file systems take no new files; a temp file cannot be made there.
      return new EnvironmentError(
        `cannot write ${flag} ${path}: the file system there does not accept new files (${codeOf(err)})`,
        'choose a path in an ordinary writable folder',
      );
    default:
      return err;
  }
}
