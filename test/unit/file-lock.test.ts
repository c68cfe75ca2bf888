import type { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { acquireLock } from '../../src/util/fileLock.js';

/**
 * The race, made certain: the waiter running as "slow" reads the dead lock, and
 * that read only returns once the other waiter has replaced the lock with its
 * own (as if the slow one were descheduled between reading and acting).
 */
const slow = vi.hoisted(() => ({ als: undefined as unknown as AsyncLocalStorage<string>, armed: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const { AsyncLocalStorage: Als } = await import('node:async_hooks');
  slow.als = new Als<string>();
  const readFileGated = (async (path: string, ...rest: unknown[]) => {
    const content = await (real.readFile as (p: string, ...r: unknown[]) => Promise<unknown>)(path, ...rest);
    if (slow.als.getStore() === 'slow' && slow.armed && String(path).endsWith('.lock')) {
      slow.armed = false;
      for (let i = 0; i < 200; i++) {
        const now = await real.readFile(path, 'utf8').catch(() => '');
        if (now !== content && now !== '') break;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    return content;
  }) as typeof real.readFile;
  return { ...real, default: { ...real, readFile: readFileGated }, readFile: readFileGated };
});

/** A pid no process can have (above the kernel's pid_max). */
const DEAD = 2 ** 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the build lock', () => {
  it('two waiters on a dead lock: exactly one gets it, the other waits for it', async () => {
    const lock = join(await mkdtemp(join(tmpdir(), 'rr-lock-')), 'build.lock');
    await writeFile(lock, `${DEAD}\n`);
    const waited: number[] = [];
    const got: string[] = [];
    const waiter = (name: string) =>
      acquireLock(lock, { waitMs: 10_000, onWait: (pid) => waited.push(pid) }).then((release) => {
        got.push(name);
        return release;
      });
    slow.armed = true;
    const a = waiter('a');
    const b = slow.als.run('slow', () => waiter('b'));
    const first = await Promise.race([a, b]);
    expect(got).toEqual(['a']);
    await sleep(600);
    expect(got).toHaveLength(1);
    expect(waited).toEqual([process.pid]);
    await first();
    const second = await (got[0] === 'a' ? b : a);
    expect(got.sort()).toEqual(['a', 'b']);
    await second();
    expect(await readdir(join(lock, '..'))).toEqual([]);
  });

  it('refuses at once when a live owner holds it and no wait is allowed', async () => {
    const lock = join(await mkdtemp(join(tmpdir(), 'rr-lock-')), 'build.lock');
    const release = await acquireLock(lock, { waitMs: 0 });
    await expect(acquireLock(lock, { waitMs: 0 })).rejects.toThrow(`pid ${process.pid}`);
    expect((await readFile(lock, 'utf8')).startsWith(`${process.pid} `)).toBe(true);
    await release();
  });
});
