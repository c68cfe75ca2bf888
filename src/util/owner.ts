/**
 * Who owns a container or a work folder: `HOST:PID` of the reprorom process that made it.
 * A later run on the same machine removes what belongs to a process that no longer exists
 * (killed hard, so it could not clean up), and never what belongs to a live one or to
 * another machine.
 */
import { hostname } from 'node:os';

/** `HOST:PID` of this process (or of `pid`). */
export function ownerId(pid = process.pid): string {
  return `${hostname()}:${pid}`;
}

/** Owned by a process of this machine that no longer exists. */
export function ownerIsGone(owner: string | undefined): boolean {
  const m = /^(.*):(\d+)$/.exec(owner?.trim() ?? '');
  if (!m || m[1] !== hostname()) return false;
  try {
    process.kill(Number(m[2]), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
