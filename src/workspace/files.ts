/**
 * Finding and reading a workspace's files (pins/, images/, boards/) for load.ts, and the
 * folder and message helpers it shares: each file read or refused with a located problem.
 */
import { lstatSync, statSync } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isWithin } from '../archive/containment.js';
import { ConfigError, type Problem, UsageError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { fileKind, IrregularFileError, readRegularFile } from '../util/regularFile.js';

export const KINDS = ['pins', 'images', 'boards'] as const;
export type WorkspaceKind = (typeof KINDS)[number];

/** Larger workspace files are refused before parsing: they are mistakes or attacks. */
export const MAX_FILE_BYTES = 1024 * 1024;

interface FileBase {
  kind: WorkspaceKind;
  /** The file name without .yaml / .yml. */
  name: string;
  /** Path relative to the current folder, as printed in messages. */
  file: string;
}

export type WorkspaceFile =
  | (FileBase & { status: 'read'; bytes: Buffer })
  /** Counted and its name taken (references to it are not dangling), but not read. */
  | (FileBase & { status: 'too-large'; problem: Problem })
  | (FileBase & { status: 'unreadable'; problem: Problem });

export interface WorkspaceFiles {
  files: WorkspaceFile[];
  /** Folders that could not be listed, each with its problem. */
  unlisted: Map<WorkspaceKind, Problem>;
}

/**
 * Every .yaml / .yml file of each kind's folder, in name order. A workspace arrives in pull
 * requests, so each file must be a regular file inside the workspace (a link to one is fine):
 * anything else is a located problem, and its content is never read, let alone echoed.
 */
export async function readWorkspaceFiles(root: string): Promise<WorkspaceFiles> {
  const files: WorkspaceFile[] = [];
  const unlisted = new Map<WorkspaceKind, Problem>();
  const realRoot = await realpath(root).catch(() => root);
  for (const kind of KINDS) {
    const dir = join(root, kind);
    let names: string[];
    try {
      const folder = await insideFolder(realRoot, dir);
      if (folder === 'missing') continue;
      names = (await readdir(folder)).sort();
    } catch (err) {
      unlisted.set(kind, {
        file: displayPath(dir),
        line: 1,
        col: 1,
        message: `cannot list ${kind}/ (${errnoText(err)}), expected a folder of .yaml files`,
      });
      continue;
    }
    for (const fileName of names) {
      if (!/\.ya?ml$/.test(fileName)) continue;
      const full = join(dir, fileName);
      const base: FileBase = {
        kind,
        name: fileName.replace(/\.ya?ml$/, ''),
        file: displayPath(full),
      };
      const refuse = (message: string) =>
        files.push({ ...base, status: 'unreadable', problem: { file: base.file, line: 1, col: 1, message } });
      try {
        const found = await regularFileInside(realRoot, full);
        if (typeof found === 'string') {
          refuse(`${found}, expected a regular YAML file inside the workspace`);
          continue;
        }
        // Never read a huge file into memory just to refuse it.
        if (found.size > MAX_FILE_BYTES) {
          const message = `file is ${found.size} bytes, expected at most ${MAX_FILE_BYTES} bytes`;
          files.push({
            ...base,
            status: 'too-large',
            problem: { file: base.file, line: 1, col: 1, message },
          });
          continue;
        }
        // Swapped since the lstat (a link, a FIFO): refused, never followed or opened blocking.
        const bytes = await readRegularFile(found.path, { followLinks: false, max: MAX_FILE_BYTES });
        files.push({ ...base, status: 'read', bytes });
      } catch (err) {
        if (err instanceof IrregularFileError && err.tooLarge === undefined && err.what.startsWith('is ')) {
          refuse(`this ${err.what}, expected a regular YAML file inside the workspace`);
          continue;
        }
        refuse(`cannot read this file (${errnoText(err)}), expected a readable YAML file`);
      }
    }
  }
  return { files, unlisted };
}

/** The folder to list (links resolved), 'missing', or a thrown error saying why it cannot be listed. */
async function insideFolder(realRoot: string, dir: string): Promise<string | 'missing'> {
  let real: string;
  try {
    real = await realpath(dir);
  } catch (err) {
    // A folder that is not there is an empty kind; a broken link to one is a mistake.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !(await lstat(dir).catch(() => undefined)))
      return 'missing';
    throw err;
  }
  if (!isWithin(realRoot, real)) throw Object.assign(new Error('outside'), { code: 'OUTSIDE' });
  if (!(await stat(real)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
  return real;
}

/**
 * The file's real path and size, or what it is instead of a regular file inside the workspace.
 * Only lstat and realpath: a FIFO or a device is never opened.
 */
async function regularFileInside(
  realRoot: string,
  full: string,
): Promise<{ path: string; size: number } | string> {
  const own = await lstat(full);
  if (!own.isSymbolicLink())
    return own.isFile() ? { path: full, size: own.size } : `this is ${fileKind(own)}`;
  const real = await realpath(full);
  if (!isWithin(realRoot, real)) return 'this is a symbolic link to a file outside the workspace';
  const target = await lstat(real);
  return target.isFile()
    ? { path: real, size: target.size }
    : `this is a symbolic link to ${fileKind(target)}`;
}

/** A missing workspace folder is a usage mistake (wrong --workspace), not an empty, valid workspace. */
export function assertWorkspaceFolder(given: string, root: string): void {
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    throw new UsageError(
      `workspace folder "${given}" does not exist`,
      'pass --workspace DIR pointing at the folder that holds pins/, images/ and boards/',
    );
  }
  if (!isDir)
    throw new UsageError(
      `workspace "${given}" is not a folder`,
      'pass --workspace DIR pointing at the folder that holds pins/, images/ and boards/',
    );
  // A folder with none of the three is not a workspace (`check -w /tmp` must not say "ok: 0 files").
  if (!KINDS.some((kind) => lstatSync(join(root, kind), { throwIfNoEntry: false }) !== undefined))
    throw new UsageError(
      `"${given}" is not a reprorom workspace: it has no pins/, images/ or boards/ folder`,
      'run the command in the workspace folder, or pass --workspace DIR',
    );
}

/** Paths are printed relative to where the user runs the command, as compilers do. */
export function displayPath(full: string): string {
  return relative(process.cwd(), full) || full;
}

function errnoText(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const known: Record<string, string> = {
    ENOENT: 'a broken symbolic link',
    ELOOP: 'a symbolic link loop',
    EACCES: 'permission denied',
    ENOTDIR: 'not a folder',
    EISDIR: 'a folder',
    OUTSIDE: 'a link to a folder outside the workspace',
  };
  if (typeof code === 'string') return known[code] ?? code;
  return err instanceof Error ? (err.message.split('\n')[0] ?? 'unknown error') : String(err);
}

export function oneLine(p: Problem): Problem {
  return { ...p, file: printable(p.file), message: printable(p.message) };
}

/** Every problem of a workspace in one error (exit 2). */
export function invalidWorkspace(problems: Problem[]): ConfigError {
  return new ConfigError(problems, 'fix the files above, then run `reprorom check`');
}
