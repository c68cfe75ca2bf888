/**
 * A build's work folder (STATE/work/RUN: prepared sources) names its owner in `.owner`, so
 * that the next build removes the folders of builds that died without cleaning up (SIGKILL,
 * a power cut), as it removes their containers.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ownerId, ownerIsGone } from '../util/owner.js';

const OWNER_FILE = '.owner';

/** Create `dir` and record this process as its owner. */
export async function createWorkFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, OWNER_FILE), `${ownerId()}\n`);
}

/** Remove the folders under `root` whose owner is a process of this machine that is gone; returns how many. */
export async function removeDeadWorkFolders(root: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const dir = join(root, name);
    const owner = await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => undefined);
    if (!ownerIsGone(owner)) continue;
    await rm(dir, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
