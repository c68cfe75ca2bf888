/**
 * Turns SIGINT/SIGTERM into an AbortSignal, so every stage can stop cleanly
 * (remove its container, its temp files) instead of dying mid-write.
 * A second signal exits at once.
 */
import { InterruptedError } from './errors.js';

export async function withInterrupts<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let received: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (received) process.exit(130);
    received = sig;
    process.stderr.write(
      `\nreprorom: ${sig} received, stopping and cleaning up (send it again to quit at once)\n`,
    );
    controller.abort(new InterruptedError(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await fn(controller.signal);
    if (received) throw new InterruptedError(received);
    return result;
  } catch (err) {
    if (received) throw new InterruptedError(received);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
