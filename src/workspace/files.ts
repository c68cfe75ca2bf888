/**
 * Finding and reading a workspace's files (pins/, images/, boards/) for load.ts, and the
 * folder and message helpers it shares: each file read or refused with a located problem.
 */
import { statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ConfigError, type Problem, UsageError } from '../util/errors.js';

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

/** Every .yaml / .yml regular file of each kind's folder, in name order. */
export async function readWorkspaceFiles(root: string): Promise<WorkspaceFiles> {
  const files: WorkspaceFile[] = [];
  const unlisted = new Map<WorkspaceKind, Problem>();
  for (const kind of KINDS) {
    const dir = join(root, kind);
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
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
      try {
        const info = await stat(full);
        if (!info.isFile()) continue;
        // Never read a huge file into memory just to refuse it.
        if (info.size > MAX_FILE_BYTES) {
          const message = `file is ${info.size} bytes, expected at most ${MAX_FILE_BYTES} bytes`;
          files.push({
            ...base,
            status: 'too-large',
            problem: { file: base.file, line: 1, col: 1, message },
          });
          continue;
        }
        files.push({ ...base, status: 'read', bytes: await readFile(full) });
      } catch (err) {
        const message = `cannot read this file (${errnoText(err)}), expected a readable YAML file`;
        files.push({ ...base, status: 'unreadable', problem: { file: base.file, line: 1, col: 1, message } });
      }
    }
  }
  return { files, unlisted };
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
  };
  if (typeof code === 'string') return known[code] ?? code;
  return err instanceof Error ? (err.message.split('\n')[0] ?? 'unknown error') : String(err);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/g;
const NAMED_CONTROL: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Control characters (a newline in a key or file name) must not break the one-line format. */
export function oneLine(p: Problem): Problem {
  const clean = (s: string) =>
    s.replace(CONTROL, (c) => NAMED_CONTROL[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return { ...p, file: clean(p.file), message: clean(p.message) };
}

/** Every problem of a workspace in one error (exit 2). */
export function invalidWorkspace(problems: Problem[]): ConfigError {
  return new ConfigError(problems, 'fix the files above, then run `reprorom check`');
}
