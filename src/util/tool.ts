/**
 * The one runner for external tools (git, apt, dpkg-source, nix, ssh-keygen, gpg, qemu…).
 * Two failures look the same for every tool and are mapped here once: a tool that is not
 * installed is an EnvironmentError naming how to install it, and a tool that fails is the
 * caller's error class with the last lines of its stderr (what the tool said, not a stack).
 */
import { ExecaError, execa } from 'execa';
import { EnvironmentError } from './errors.js';

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
}

export interface ToolResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Run `tool args…` and return its stdout (final newline stripped); failures mapped as above. */
export async function runTool(tool: string, args: readonly string[], opts: ToolOptions): Promise<string> {
  try {
    const r = await execa(tool, args, execaOptions(opts));
    return r.stdout;
  } catch (err) {
    if (!(err instanceof ExecaError) || err.isCanceled) throw err;
    if (err.code === 'ENOENT') throw notInstalled(tool, opts.install, err);
    const message = `${tool} ${args[0] ?? ''} failed: ${stderrTail(err, opts.tailLines) || err.shortMessage}`;
    throw (opts.failed ?? ((m, cause) => new EnvironmentError(m, undefined, { cause })))(message, err);
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
  if (r.exitCode === undefined) throw notInstalled(tool, opts.install, r);
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode };
}

export function notInstalled(tool: string, install: string, cause?: unknown): EnvironmentError {
  return new EnvironmentError(`${tool} is not installed`, install, { cause });
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
    ...(opts.maxBuffer ? { maxBuffer: opts.maxBuffer } : {}),
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
  };
}
