/**
 * Typed errors, each carrying the exit code documented in the README.
 * One top-level catch (src/cli/main.ts) turns them into one-line messages.
 */
import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';

export const ExitCode = {
  ok: 0,
  mismatch: 1,
  config: 2,
  environment: 3,
  buildFailed: 4,
  /** Stopped by SIGINT, SIGTERM or SIGHUP (128 + 2, as shells report SIGINT). */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class ReproromError extends Error {
  readonly exitCode: ExitCodeValue;
  /** What the user should do next, printed on its own line. */
  readonly hint: string | undefined;
  constructor(message: string, exitCode: ExitCodeValue, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

/** A position-bearing problem in a workspace file. Lines and columns are 1-based. */
export interface Problem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

export class ConfigError extends ReproromError {
  readonly problems: Problem[];
  constructor(problems: Problem[], hint?: string) {
    super(problems.map(formatProblem).join('\n'), ExitCode.config, hint);
    this.problems = problems;
  }
}

export class UsageError extends ReproromError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.config, hint);
  }
}

export class EnvironmentError extends ReproromError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, ExitCode.environment, hint, options);
  }
}

export class EngineUnavailableError extends EnvironmentError {}

export class ImageBuildError extends ReproromError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, ExitCode.buildFailed, hint, options);
  }
}

export class BuildFailedError extends ReproromError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, ExitCode.buildFailed, hint, options);
  }
}

export class MismatchError extends ReproromError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.mismatch, hint);
  }
}

export class InterruptedError extends ReproromError {
  /**
   * `completed`: what was already written whole when the signal came (e.g. "the release was
   * written completely to OUT"), so the message does not claim that anything was discarded.
   */
  constructor(signal: string, completed?: string) {
    super(
      completed
        ? `interrupted by ${signal} after ${completed}; nothing was discarded`
        : `interrupted by ${signal}; partial results were discarded`,
      ExitCode.interrupted,
      completed
        ? 'what was written is complete and in place: nothing needs cleaning up or running again'
        : 'run the same command again: nothing needs cleaning up',
    );
  }
}

/**
 * File-system failures the user can fix (full disk, permissions) are environment problems, not bugs.
 * `cache`: the cache folder in force; a fault below it names the cache and
 * REPROROM_CACHE (moving the workspace's state folder would not help).
 */
export function hostFileSystemFault(
  err: unknown,
  cache?: string,
): { message: string; hint: string } | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  const where = e?.path ? ` (${e.path})` : '';
  const inCache =
    cache !== undefined &&
    (typeof e?.path === 'string'
      ? e.path === cache || e.path.startsWith(`${cache}/`)
      : e?.code === 'ENOSPC' && cacheDiskFull(cache));
  const elsewhere = `point REPROROM_CACHE at another folder (the cache is ${cache})`;
  // Node's recursive mkdir says ENOENT where the real cause is a read-only or closed
  // folder above: ask that folder, so the message names the cause the user can fix.
  const code =
    (e?.code === 'ENOENT' || e?.code === 'EEXIST') && inCache && e?.path
      ? (writeFault(e.path) ?? e.code)
      : e?.code;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return {
        message: `no space left on the device${where}`,
        hint: inCache
          ? `free some space in the cache ${cache}, or ${elsewhere}, then run the same command again`
          : 'free some space (or move the state folder), then run the same command again',
      };
    case 'EACCES':
    case 'EPERM':
      return {
        message: `permission denied${where}`,
        hint: inCache
          ? `make the cache writable, or ${elsewhere}`
          : 'run reprorom as a user that may write the workspace and its .reprorom folder',
      };
    case 'EROFS':
      return {
        message: `read-only file system${where}`,
        hint: inCache ? `the cache must be writable: ${elsewhere}` : 'run reprorom in a writable workspace',
      };
    case 'ENOTDIR':
    case 'ENOENT':
    case 'EEXIST':
      // mkdir below a file (REPROROM_CACHE=/tmp/afile), or where no folder can be made.
      return inCache
        ? {
            message: `cannot create the cache folder${where}: ${e?.code === 'ENOTDIR' || e?.code === 'EEXIST' ? 'a part of the path is a file, not a folder' : 'the path cannot be created'}`,
            hint: `point REPROROM_CACHE at a folder reprorom may create and write (the cache is now ${cache})`,
          }
        : undefined;
    default:
      return undefined;
  }
}

/** A write that failed without naming its file (a stream, a handle): is the cache's disk the full one? */
function cacheDiskFull(cache: string): boolean {
  const at = nearestExisting(cache);
  try {
    return at !== undefined && statfsSync(at).bavail === 0;
  } catch {
    return false;
  }
}

/** Why no folder can be made at `path`: the nearest existing folder above is read-only or not writable. */
function writeFault(path: string): string | undefined {
  const at = nearestExisting(dirname(path));
  if (at === undefined) return undefined;
  try {
    accessSync(at, constants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EROFS' || code === 'EACCES' ? code : undefined;
  }
}

function nearestExisting(path: string): string | undefined {
  for (let at = path; ; at = dirname(at)) {
    if (existsSync(at)) return at;
    if (dirname(at) === at) return undefined;
  }
}
