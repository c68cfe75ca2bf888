/**
 * Runs one emulator process, sends its standard output (the console) to a file, and
 * watches that file until a pattern appears, the process exits, the time limit passes or the caller
 * aborts. Whatever happens, the process is stopped before this returns: SIGTERM
 * to its whole process group, SIGKILL after a short grace. As a second line of
 * defence it runs under coreutils `timeout`, so even if reprorom itself is
 * killed with SIGKILL the emulator cannot outlive its limit by more than a few seconds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { EnvironmentError } from '../util/errors.js';
import type { LinearRegex } from '../util/linearRegex.js';

export interface WatchOptions {
  /** Absolute path or a name looked up on PATH. */
  command: string;
  args: string[];
  /** The process's standard output (the watched channel) goes here; the process never sees the path. */
  outputFile: string;
  /** Matched in linear time (RE2): a pattern from a board file cannot stall the watch. */
  expect: LinearRegex;
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL (default 2 s). */
  graceMs?: number;
  /** How often the output file is read (default 100 ms). */
  pollMs?: number;
  signal?: AbortSignal;
}

export type WatchOutcome = 'matched' | 'timeout' | 'exited' | 'aborted';

export interface WatchResult {
  outcome: WatchOutcome;
  matched: string | null;
  /** The last non-empty line seen on the channel, printable characters only (for messages). */
  lastLine: string;
  /** Bytes the channel received in all. */
  outputBytes: number;
  stderr: string;
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  durationMs: number;
  /** Process (and process group) id, so callers and tests can check nothing is left. */
  pid: number;
}

/** At most this much new output is read per poll. */
const CHUNK_MAX = 1024 * 1024;
/**
 * Each poll searches the new output plus this much of what came before it, so a match may
 * span reads; the expected text must fit in it (a banner takes a line). Every byte is thus
 * searched a bounded number of times, whatever the guest prints.
 */
export const MATCH_SPAN = 64 * 1024;
const STDERR_MAX = 64 * 1024;

/** `which`: an absolute path for a command name, or null. */
export function findOnPath(name: string, path = process.env['PATH'] ?? ''): string | null {
  if (isAbsolute(name)) return canExecute(name) ? name : null;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (canExecute(candidate)) return candidate;
  }
  return null;
}

function canExecute(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Signal a whole process group; a group that is already gone is fine. */
function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: nothing left to stop.
  }
}

/** Printable tail line of a console transcript, for a one-line message. */
export function lastPrintableLine(text: string, max = 120): string {
  const lines = text.split(/[\r\n]+/);
  for (let i = lines.length - 1; i >= 0; i--) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
    const line = (lines[i] ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim();
    if (line) return line.length > max ? `${line.slice(0, max - 1)}…` : line;
  }
  return '';
}

/** Reads what was appended to a file since the last call, keeping the last MATCH_SPAN characters. */
class Tail {
  private offset = 0;
  /** The last MATCH_SPAN characters read before the latest chunk. */
  private before = '';
  /** What the latest read added. */
  private chunk = '';
  total = 0;
  constructor(private readonly file: string) {}

  /** The text to search: the new output and the span before it. */
  get text(): string {
    return this.before + this.chunk;
  }

  /** Returns true when new bytes arrived. */
  async read(): Promise<boolean> {
    const size = await stat(this.file).then(
      (s) => s.size,
      () => 0,
    );
    if (size < this.offset) {
      // Truncated under us: start over.
      this.offset = 0;
      this.before = '';
      this.chunk = '';
    }
    if (size === this.offset) return false;
    const fh = await open(this.file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(size - this.offset, CHUNK_MAX));
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
      this.offset += bytesRead;
      this.total += bytesRead;
      this.before = this.text.slice(-MATCH_SPAN);
      // latin1: one character per byte, so a multi-byte sequence split between reads cannot be mangled.
      this.chunk = buf.toString('latin1', 0, bytesRead);
      return bytesRead > 0;
    } finally {
      await fh.close();
    }
  }
}

export async function watchProcess(opts: WatchOptions): Promise<WatchResult> {
  const command = findOnPath(opts.command);
  if (!command) throw new EnvironmentError(`${opts.command} is not installed`);
  const graceMs = opts.graceMs ?? 2000;
  opts.signal?.throwIfAborted();
  const started = Date.now();
  const proc = await spawnWatched(command, opts, graceMs);
  let onAbort = () => {};
  const aborted = new Promise<void>((resolve) => {
    onAbort = () => resolve();
  });
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const tail = new Tail(opts.outputFile);
  let seen: { outcome: WatchOutcome; matched: string | null };
  try {
    seen = await pollOutput(tail, proc, aborted, opts, started + opts.timeoutMs);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await stopGroup(proc.child, proc.exited, () => proc.hasExited, graceMs);
  }
  const spawnError = proc.spawnError;
  if (spawnError) {
    throw new EnvironmentError(`cannot start ${opts.command}: ${spawnError.message}`, undefined, {
      cause: spawnError,
    });
  }
  return {
    ...seen,
    lastLine: lastPrintableLine(tail.text),
    outputBytes: tail.total,
    stderr: proc.stderr,
    exitCode: proc.child.exitCode,
    exitSignal: proc.child.signalCode,
    durationMs: Date.now() - started,
    pid: proc.child.pid ?? -1,
  };
}

/** A started process whose console goes to a file, its stderr kept (capped) and its exit tracked. */
interface Watched {
  child: ChildProcess;
  exited: Promise<void>;
  hasExited: boolean;
  stderr: string;
  spawnError: Error | undefined;
}

async function spawnWatched(command: string, opts: WatchOptions, graceMs: number): Promise<Watched> {
  // The hard limit, enforced by `timeout` even if this process dies: the soft limit plus the grace, plus slack.
  const hard = findOnPath('timeout');
  const hardSeconds = Math.ceil((opts.timeoutMs + graceMs) / 1000) + 5;
  const [file, args] = hard
    ? [hard, ['-k', '2', String(hardSeconds), command, ...opts.args]]
    : [command, opts.args];
  // The console file is opened here and handed over as a descriptor: the process opens no path to write.
  const console = await open(opts.outputFile, 'w', 0o600);
  let child: ChildProcess;
  try {
    // detached: its own process group, so one kill reaches `timeout`, the emulator and anything it forked.
    child = spawn(file, args, { stdio: ['ignore', console.fd, 'pipe'], detached: true });
  } finally {
    // The child holds its own copy of the descriptor.
    await console.close();
  }
  const watched: Watched = {
    child,
    exited: Promise.resolve(),
    hasExited: false,
    stderr: '',
    spawnError: undefined,
  };
  child.stderr?.on('data', (d: Buffer) => {
    if (watched.stderr.length < STDERR_MAX) watched.stderr += d.toString('utf8');
  });
  watched.exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (e) => {
      watched.spawnError = e;
      resolve();
    });
  });
  void watched.exited.then(() => {
    watched.hasExited = true;
  });
  return watched;
}

/** Read the console until the pattern appears, the process exits, the signal aborts or the deadline passes. */
async function pollOutput(
  tail: Tail,
  proc: Watched,
  aborted: Promise<void>,
  opts: WatchOptions,
  deadline: number,
): Promise<{ outcome: WatchOutcome; matched: string | null }> {
  const pollMs = opts.pollMs ?? 100;
  for (;;) {
    // Read before checking exit, so output written just before the process ended still counts.
    const exitedBefore = proc.hasExited;
    if (await tail.read()) {
      const m = opts.expect.find(tail.text);
      if (m !== null) return { outcome: 'matched', matched: m };
    }
    if (opts.signal?.aborted) return { outcome: 'aborted', matched: null };
    if (exitedBefore) return { outcome: 'exited', matched: null };
    const left = deadline - Date.now();
    if (left <= 0) return { outcome: 'timeout', matched: null };
    const nap = sleep(Math.min(pollMs, left));
    await Promise.race([nap.done, proc.exited, aborted]);
    nap.cancel();
  }
}

/** SIGTERM to the group, SIGKILL after the grace; then SIGKILL again for anything the leader left behind. */
async function stopGroup(
  child: ChildProcess,
  exited: Promise<void>,
  hasExited: () => boolean,
  graceMs: number,
): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  if (!hasExited()) {
    killGroup(pid, 'SIGTERM');
    const grace = sleep(graceMs);
    const inTime = await Promise.race([exited.then(() => true), grace.done.then(() => false)]);
    grace.cancel();
    if (!inTime) {
      killGroup(pid, 'SIGKILL');
      await exited;
    }
  }
  killGroup(pid, 'SIGKILL');
}

/** A timer that can be cleared, so a finished race leaves nothing keeping the process alive. */
function sleep(ms: number): { done: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { done, cancel: () => clearTimeout(timer) };
}
