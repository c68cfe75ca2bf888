/**
 * Turns SIGINT/SIGTERM/SIGHUP into an AbortSignal, so every stage can stop cleanly
 * (remove its container, its temp files, its lock) instead of dying mid-write.
 * A second signal does not cut that clean-up short at once: exiting then would leave the
 * running container, the lock and the partial run behind. It does bound it: the process
 * ends within SECOND_SIGNAL_DEADLINE_MS (a first signal alone allows CLEANUP_DEADLINE_MS),
 * and a third signal ends it at once. The next build removes what a process that no
 * longer exists left.
 *
 * Ending "at once" must work even when a libuv thread is stuck in a system call (an open()
 * of a FIFO never returns, and then process.exit() hangs for ever): the signal is sent
 * again with its default action, which the kernel carries out whatever the threads do.
 * Temporary folders registered with removeOnHardExit are removed first.
 */
import { rmSync } from 'node:fs';
import { InterruptedError } from './errors.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const CLEANUP_DEADLINE_MS = 30_000;
const SECOND_SIGNAL_DEADLINE_MS = 10_000;

/** Folders to remove when the process has to end without its normal clean-up. */
const hardExitFolders = new Set<string>();

/** Registers a temporary folder to remove on a hard exit; call the result once it is removed normally. */
export function removeOnHardExit(dir: string): () => void {
  hardExitFolders.add(dir);
  return () => {
    hardExitFolders.delete(dir);
  };
}

/** Best effort: after SIGHUP the terminal may be gone, and a failed write must not crash the clean-up. */
function say(text: string): void {
  try {
    process.stderr.write(text);
  } catch {
    // nowhere to say it
  }
}

/** Ends the process now, by the signal's default action (which no stuck thread can hold up). */
function hardExit(sig: NodeJS.Signals): never {
  for (const dir of hardExitFolders) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // nothing more can be done on the way out
    }
  }
  process.exitCode = 130;
  for (const s of SIGNALS) process.removeAllListeners(s);
  process.kill(process.pid, sig);
  // Delivery is asynchronous; should the signal be blocked, SIGKILL cannot be.
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), 1000);
  // The kernel ends the process before this returns in practice; the type says it never does.
  return undefined as never;
}

/** The interrupt handlers of the scopes running now (one per withInterrupts call). */
const active = new Set<(sig: NodeJS.Signals) => void>();

/**
 * The reader of stdout or stderr went away (`reprorom build | head -3`): stop and clean up
 * as after a signal. Returns false when no interruptible command is running (nothing to clean up).
 */
export function interruptForClosedPipe(): boolean {
  if (active.size === 0) return false;
  for (const onSignal of active) onSignal('SIGPIPE');
  return true;
}

export interface InterruptOptions<T> {
  /**
   * What `result` says was written whole (e.g. "the release was written completely to OUT"),
   * or undefined: a signal that came after the work was done is reported as such.
   */
  completed?: (result: T) => string | undefined;
}

export async function withInterrupts<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  opts: InterruptOptions<T> = {},
): Promise<T> {
  const controller = new AbortController();
  let received: string | undefined;
  let count = 0;
  let deadline: NodeJS.Timeout | undefined;
  const ignoreWriteErrors = () => undefined;
  const exitAfter = (sig: NodeJS.Signals, ms: number, why: string) => {
    clearTimeout(deadline);
    deadline = setTimeout(() => {
      say(`reprorom: ${why}; exiting (the next build removes what is left)\n`);
      hardExit(sig);
    }, ms);
    deadline.unref();
  };
  const onSignal = (sig: NodeJS.Signals) => {
    count += 1;
    if (sig === 'SIGHUP' || sig === 'SIGPIPE') {
      // A hung-up terminal (EIO) or a closed pipe (EPIPE) fails every later write; the clean-up must still run.
      process.stderr.on('error', ignoreWriteErrors);
      process.stdout.on('error', ignoreWriteErrors);
    }
    if (count >= 3) {
      say(`reprorom: ${sig} received a third time; exiting now (the next build removes what is left)\n`);
      hardExit(sig);
    }
    if (received) {
      say(
        `reprorom: ${sig} received, still removing the container and temporary files; exiting when done, within ${SECOND_SIGNAL_DEADLINE_MS / 1000} s (send it again to exit now)\n`,
      );
      exitAfter(
        sig,
        SECOND_SIGNAL_DEADLINE_MS,
        `clean-up did not finish within ${SECOND_SIGNAL_DEADLINE_MS / 1000} s of the second signal`,
      );
      return;
    }
    received = sig;
    say(`\nreprorom: ${sig} received, stopping and cleaning up\n`);
    exitAfter(sig, CLEANUP_DEADLINE_MS, `clean-up did not finish within ${CLEANUP_DEADLINE_MS / 1000} s`);
    controller.abort(new InterruptedError(sig));
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  active.add(onSignal);
  let result: T;
  try {
    result = await fn(controller.signal);
  } catch (err) {
    if (received) throw new InterruptedError(received);
    throw err;
  } finally {
    clearTimeout(deadline);
    for (const s of SIGNALS) process.off(s, onSignal);
    active.delete(onSignal);
  }
  // Outside the try: this error must not be taken for a failure of fn (which would say "discarded").
  if (received) throw new InterruptedError(received, opts.completed?.(result));
  return result;
}
