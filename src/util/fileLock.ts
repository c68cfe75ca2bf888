/**
 * One build at a time per workspace: a lock file holding the owner's pid. A
 * second `reprorom build` waits for the first (saying so once), and takes over
 * a lock whose owner is gone, so a killed build never blocks the next one.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { EnvironmentError } from './errors.js';

export interface LockOptions {
  /** How long to wait for another owner; 0 refuses at once. */
  waitMs: number;
  onWait?: (ownerPid: number) => void;
  signal?: AbortSignal;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireLock(path: string, opts: LockOptions): Promise<() => Promise<void>> {
  const deadline = Date.now() + opts.waitMs;
  let told = false;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        // Only remove our own lock: a stale-lock takeover may have replaced it.
        const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
        if (owner === process.pid) await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(owner) || owner <= 0 || !alive(owner)) {
      await rm(path, { force: true }); // the owner died without cleaning up
      continue;
    }
    if (Date.now() >= deadline) {
      throw new EnvironmentError(
        `another reprorom (pid ${owner}) is building in this workspace (lock ${path})`,
        'wait for it to finish, or run this build in another workspace copy',
      );
    }
    if (!told) {
      opts.onWait?.(owner);
      told = true;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
