import { randomBytes } from 'node:crypto';
import { renameSync } from 'node:fs';
import { link, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A sibling temporary name: same folder, so the final rename is atomic. */
export function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Flush a folder's entries (a rename into it) to disk. Some file systems cannot: that is not an error. */
export async function syncFolder(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR') throw err;
  } finally {
    await fh.close();
  }
}

/**
 * Write a file so readers see either the old or the whole new content, never a
 * part, even after a power cut: the data reaches the disk (fsync) before the
 * rename, and the rename reaches it (fsync of the folder) before we return.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  try {
    await writeSynced(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncFolder(dirname(path));
}

/**
 * Write a whole new file, never replacing one that exists (even one created meanwhile):
 * the content goes to a temp file, then a hard link claims the name atomically.
 * Returns false, writing nothing, when `path` already exists.
 */
export async function createFileAtomic(path: string, data: string | Uint8Array): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  try {
    await writeSynced(tmp, data);
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
  await syncFolder(dirname(path));
  return true;
}

/** A new file whose bytes are on disk (fsync) before anyone can see it under its final name. */
async function writeSynced(path: string, data: string | Uint8Array): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Write a set of files that belong together (a release's signatures) so that either all
 * of them change or none does. Every content first reaches the disk under a temporary
 * sibling name; a failure there (a full disk) removes the temporaries and leaves every
 * final name as it was. Then all are renamed in one synchronous burst: a signal's
 * handler runs on the event loop, so it cannot fall between two of these renames.
 */
export async function writeFilesAtomic(
  files: ReadonlyArray<{ path: string; data: string | Uint8Array }>,
): Promise<void> {
  const staged: Array<{ tmp: string; path: string }> = [];
  try {
    for (const f of files) {
      await mkdir(dirname(f.path), { recursive: true });
      const tmp = tempSibling(f.path);
      staged.push({ tmp, path: f.path });
      await writeSynced(tmp, f.data);
    }
  } catch (err) {
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true })));
    throw err;
  }
  for (const s of staged) renameSync(s.tmp, s.path);
  for (const dir of new Set(staged.map((s) => dirname(s.path)))) await syncFolder(dir);
}
