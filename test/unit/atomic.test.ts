import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const synced = vi.hoisted(() => [] as string[]);
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const openTracked = (async (path: string, ...rest: unknown[]) => {
    const fh = await (
      real.open as (p: string, ...r: unknown[]) => Promise<import('node:fs/promises').FileHandle>
    )(path, ...rest);
    const sync = fh.sync.bind(fh);
    fh.sync = async () => {
      await sync();
      synced.push(String(path));
    };
    return fh;
  }) as typeof real.open;
  return { ...real, default: { ...real, open: openTracked }, open: openTracked };
});

const { writeFileAtomic } = await import('../../src/util/atomic.js');

describe('writeFileAtomic', () => {
  it('writes the whole content, syncing the file before the rename and the folder after', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-atomic-'));
    const target = join(dir, 'sub', 'hashes.txt');
    const data = 'x'.repeat(3 * 1024 * 1024);
    synced.length = 0;
    await writeFileAtomic(target, data);
    expect(await readFile(target, 'utf8')).toBe(data);
    expect(await readdir(join(dir, 'sub'))).toEqual(['hashes.txt']);
    expect(synced).toHaveLength(2);
    expect(synced[0]).toMatch(/\/sub\/\.hashes\.txt\.\d+\.[0-9a-f]+\.tmp$/);
    expect(synced[1]).toBe(join(dir, 'sub'));
  });

  it('leaves no temp file and the old content when the rename fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-atomic-'));
    await mkdir(join(dir, 'taken'));
    await mkdir(join(dir, 'taken', 'inside'));
    await expect(writeFileAtomic(join(dir, 'taken'), 'new')).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['taken']);
    expect(await readdir(join(dir, 'taken'))).toEqual(['inside']);
  });
});
