/**
 * The one runner for external tools (git, apt, dpkg-source, nix, ssh-keygen, gpg, qemu…).
 * Two failures look the same for every tool and are mapped here once: a tool that is not
 * installed is an EnvironmentError naming how to install it, and a tool that fails is the
 * caller's error class with the last lines of its stderr (what the tool said, not a stack).
 */
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { ExecaError, execa } from 'execa';
import { EnvironmentError } from './errors.js';

/** A tool that is not on PATH: callers that can do without it (doctor, diffoscope) test for this class. */
export class ToolMissingError extends EnvironmentError {
  constructor(
    readonly tool: string,
    install: string,
    cause?: unknown,
  ) {
    super(`${tool} is not installed`, install, { cause });
  }
}

export interface ToolOptions {
  cwd?: string;
  /** Added to the environment (the tool still sees PATH, HOME…). */
  env?: Record<string, string>;
  signal?: AbortSignal;
  input?: string | Uint8Array;
  /** Bytes of stdout kept (execa's default is 100 MB). */
  maxBuffer?: number;
  /** How to get the tool, shown as the hint when it is missing: `install it: apt-get install -y git`. */
  install: string;
  /** The error for a failed run, given "TOOL ARG failed: last lines". Default: an EnvironmentError. */
  failed?: (message: string, cause: unknown) => Error;
  /** Lines of stderr that name a failure (default 6). */
  tailLines?: number;
  /** Kill the tool after this long (a failed run, or an exit code of undefined for runToolResult). */
  timeoutMs?: number;
}

export interface ToolResult {
  stdout: string;
  stderr: string;
  /** Undefined when the tool did not exit by itself (the timeout, or a signal killed it). */
  exitCode: number | undefined;
  /** How it ended, when it did not exit by itself: "timed out after …", "was killed with SIGKILL", why it did not start. */
  killed?: string;
}

/** Run `tool args…` and return its stdout (final newline stripped); failures mapped as above. */
export async function runTool(tool: string, args: readonly string[], opts: ToolOptions): Promise<string> {
  try {
    const r = await execa(tool, args, execaOptions(opts));
    return r.stdout;
  } catch (err) {
    throw mapFailure(tool, args, opts, err);
  }
}

/** "not installed" and "failed" as the project's errors; a cancellation or a non-tool error unchanged. */
function mapFailure(tool: string, args: readonly string[], opts: ToolOptions, err: unknown): unknown {
  if (!(err instanceof ExecaError) || err.isCanceled) return err;
  if (err.code === 'ENOENT') return notFound(tool, opts, err);
  const message = `${tool} ${args[0] ?? ''} failed: ${stderrTail(err, opts.tailLines) || err.shortMessage}`;
  return (opts.failed ?? ((m, cause) => new EnvironmentError(m, undefined, { cause })))(message, err);
}

/**
 * Run a tool whose stdout is too large to hold (dpkg-deb --fsys-tarfile): `consume` reads it as
 * a stream while the tool runs; stderr is kept for the failure message, mapped as runTool's.
 */
export async function runToolStream<T>(
  tool: string,
  args: readonly string[],
  opts: ToolOptions,
  consume: (stdout: Readable) => Promise<T>,
): Promise<T> {
  const child = execa(tool, args, { ...execaOptions(opts), buffer: { stdout: false, stderr: true } });
  try {
    const [, value] = await Promise.all([child, consume(child.stdout)]);
    return value;
  } catch (err) {
    if (err instanceof ExecaError) throw mapFailure(tool, args, opts, err);
    // The reader failed: stop the tool (not left blocked on a full pipe); a tool that had
    // failed by itself names the cause better than the reader's broken stream.
    child.kill();
    const ended = await child.then(
      () => undefined,
      (e: unknown) => e,
    );
    const toolFailed =
      ended instanceof ExecaError && (ended.code === 'ENOENT' || (ended.exitCode ?? 0) !== 0);
    throw toolFailed ? mapFailure(tool, args, opts, ended) : err;
  }
}

/**
 * Run a tool whose exit code is an answer, not a failure (gpg --verify, apt-get asked for a
 * version it lacks): only "not installed" and cancellation throw.
 */
export async function runToolResult(
  tool: string,
  args: readonly string[],
  opts: ToolOptions,
): Promise<ToolResult> {
  const r = await execa(tool, args, { ...execaOptions(opts), reject: false });
  if (r.isCanceled) throw opts.signal?.reason ?? new Error(`${tool} was cancelled`);
  if (r.code === 'ENOENT') throw notFound(tool, opts, r);
  const out = { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode };
  if (r.exitCode !== undefined) return out;
  return {
    ...out,
    // Or it never started (a file that is not executable): execa's words for it.
    killed: r.timedOut
      ? `timed out after ${opts.timeoutMs} ms`
      : r.signal
        ? `was killed with ${r.signal}`
        : r.shortMessage,
  };
}

/** runToolResult for a tool the caller can do without (doctor, diffoscope): undefined when not installed. */
export async function runOptionalTool(
  tool: string,
  args: readonly string[],
  opts: ToolOptions,
): Promise<ToolResult | undefined> {
  return runToolResult(tool, args, opts).catch((err: unknown) => {
    if (err instanceof ToolMissingError) return undefined;
    throw err;
  });
}

/** spawn says ENOENT for a missing working folder too: that is not a missing tool. */
function notFound(tool: string, opts: ToolOptions, cause: unknown): EnvironmentError {
  if (opts.cwd !== undefined && !existsSync(opts.cwd))
    return new EnvironmentError(
      `${tool} could not start: its working folder ${opts.cwd} does not exist`,
      undefined,
      {
        cause,
      },
    );
  return notInstalled(tool, opts.install, cause);
}

export function notInstalled(tool: string, install: string, cause?: unknown): ToolMissingError {
  return new ToolMissingError(tool, install, cause);
}

/** The last non-blank lines a failed tool wrote to stderr, joined for one message. */
export function stderrTail(err: unknown, lines = 6, separator = '\n  '): string {
  if (!(err instanceof ExecaError)) return err instanceof Error ? err.message : String(err);
  return String(err.stderr ?? '')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-lines)
    .join(separator);
}

function execaOptions(opts: ToolOptions) {
  return {
    cwd: opts.cwd,
    env: opts.env,
    cancelSignal: opts.signal,
    stripFinalNewline: true,
    ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
    ...(opts.maxBuffer ? { maxBuffer: opts.maxBuffer } : {}),
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
  };
}
