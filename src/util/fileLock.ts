/**
 * One build at a time per workspace: a lock file holding the owner's pid and a
 * token of its own. A second `reprorom build` waits for the first (saying so
 * once), and takes over a lock whose owner is gone, so a killed build never
 * blocks the next one.
 *
 * The take-over is atomic: waiters that find the same dead lock race to create
 * a claim file named after that lock's token (`O_EXCL`: exactly one wins); the
 * winner checks the lock still holds that token and renames its own lock over
 * it. A waiter can never remove a fresh lock it did not see. A claimer that
 * dies leaves its claim: the next waiter claims the following number.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { tempSibling } from './atomic.js';
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

const readText = (path: string): Promise<string | undefined> => readFile(path, 'utf8').catch(() => undefined);
const ownerOf = (content: string): number => Number(content.trim().split(/\s+/)[0]);
const isDead = (pid: number): boolean => !Number.isInteger(pid) || pid <= 0 || !alive(pid);

/** Create `path` holding `content`, or false when it exists. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  try {
    const fh = await open(path, 'wx');
    try {
      await fh.writeFile(content);
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Replace the dead lock whose content is `stale` with `mine`; false when another
 * waiter claimed it first (or the lock changed meanwhile).
 */
async function takeOver(path: string, stale: string, mine: string): Promise<boolean> {
  const id = createHash('sha256').update(stale).digest('hex').slice(0, 16);
  const claimPrefix = `${basename(path)}.${id}.claim.`;
  for (let n = 0; ; n++) {
    const claim = join(dirname(path), `${claimPrefix}${n}`);
    if (!(await createExclusive(claim, `${process.pid}\n`))) {
      const claimer = ownerOf((await readText(claim)) ?? '');
      if (!isDead(claimer)) return false; // someone alive is taking it over: wait for them
      continue; // that claimer died mid-way: claim the next number
    }
    // Only a claimer of this token may replace the lock, and only while it still holds the token.
    if ((await readText(path)) !== stale) {
      await rm(claim, { force: true });
      return false;
    }
    const tmp = tempSibling(path);
    await createExclusive(tmp, mine);
    await rename(tmp, path);
    const dir = await readdir(dirname(path));
    await Promise.all(
      dir.filter((f) => f.startsWith(claimPrefix)).map((f) => rm(join(dirname(path), f), { force: true })),
    );
    return true;
  }
}

export async function acquireLock(path: string, opts: LockOptions): Promise<() => Promise<void>> {
  const deadline = Date.now() + opts.waitMs;
  const mine = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  const release = async () => {
    // Only remove our own lock: nobody can take over a live owner's lock, so the check holds.
    if ((await readText(path)) === mine) await rm(path, { force: true });
  };
  let told = false;
  for (;;) {
    opts.signal?.throwIfAborted();
    if (await createExclusive(path, mine)) return release;
    const content = await readText(path);
    if (content === undefined) continue; // released meanwhile: try again
    const owner = ownerOf(content);
    if (isDead(owner)) {
      if (await takeOver(path, content, mine)) return release;
    } else {
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
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
