/**
 * Turns SIGINT/SIGTERM/SIGHUP into an AbortSignal, so every stage can stop cleanly
 * (remove its container, its temp files, its lock) instead of dying mid-write.
 * A second signal does not cut that clean-up short: exiting at once would leave the
 * running container, the lock and the partial run behind. The clean-up is bounded
 * instead: past CLEANUP_DEADLINE_MS the process exits anyway (the next build
 * removes a container left by a process that no longer exists).
 */
import { InterruptedError } from './errors.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const CLEANUP_DEADLINE_MS = 30_000;

/** Best effort: after SIGHUP the terminal may be gone, and a failed write must not crash the clean-up. */
function say(text: string): void {
  try {
    process.stderr.write(text);
  } catch {
    // nowhere to say it
  }
}

/** The interrupt handlers of the scopes running now (one per withInterrupts call). */
const active = new Set<(sig: string) => void>();

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
  let deadline: NodeJS.Timeout | undefined;
  const ignoreWriteErrors = () => undefined;
  const onSignal = (sig: string) => {
    if (sig === 'SIGHUP' || sig === 'SIGPIPE') {
      // A hung-up terminal (EIO) or a closed pipe (EPIPE) fails every later write; the clean-up must still run.
      process.stderr.on('error', ignoreWriteErrors);
      process.stdout.on('error', ignoreWriteErrors);
    }
    if (received) {
      say(`reprorom: ${sig} received, still removing the container and temporary files; exiting when done\n`);
      return;
    }
    received = sig;
    say(`\nreprorom: ${sig} received, stopping and cleaning up\n`);
    deadline = setTimeout(() => {
      say(
        `reprorom: clean-up did not finish within ${CLEANUP_DEADLINE_MS / 1000} s; exiting (the next build removes what is left)\n`,
      );
      process.exit(130);
    }, CLEANUP_DEADLINE_MS);
    deadline.unref();
    controller.abort(new InterruptedError(sig));
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  active.add(onSignal);
  try {
    const result = await fn(controller.signal);
    if (received) throw new InterruptedError(received, opts.completed?.(result));
    return result;
  } catch (err) {
    if (received) throw new InterruptedError(received);
    throw err;
  } finally {
    clearTimeout(deadline);
    for (const s of SIGNALS) process.off(s, onSignal);
    active.delete(onSignal);
  }
}
