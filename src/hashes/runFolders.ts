/**
 * The RUN/BOARD/N layout of run folders, walked one way for `compare` and `merge`: which
 * runs a board folder holds, in number order, and the rule both need: a numbered run that
 * lost its record beside runs that kept theirs is refused, because leaving it out would make
 * an incomplete board look complete (a false "reproducible").
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ForeignEntryError, foreignEntry } from '../archive/foreignFolder.js';
import { comparePaths } from './artifactPath.js';
import { MANIFEST_FILE } from './runManifest.js';

/** Whether `path` is a regular file (a link is not followed). */
export async function isRegularFile(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isFile() === true;
}

/** Whether a folder holds a run's record; `compare` also counts a bare hashes.txt. */
export type HoldsRun = (dir: string) => Promise<boolean>;

export const holdsManifest: HoldsRun = (dir) => isRegularFile(join(dir, MANIFEST_FILE));

const NUMBERED = /^\d+$/;

/** Run 10 after run 9: numeric names compare as numbers, others byte-wise. */
export function naturalOrder(a: string, b: string): number {
  if (NUMBERED.test(a) && NUMBERED.test(b)) return Number(a) - Number(b);
  return comparePaths(a, b);
}

/**
 * Names of the sub-folders of `dir` (dot-names skipped), in natural order. A link, FIFO or
 * device among them is refused by name, never followed or silently skipped.
 */
export async function subfolders(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory() && !e.name.startsWith('.')) out.push(e.name);
    else if (!e.isFile() && !e.isDirectory()) await foreignEntry(join(dir, e.name));
  }
  return out.sort(naturalOrder);
}

/**
 * The runs of a board folder (BOARD/) that hold a record, in natural order. `numberedOnly`:
 * only BOARD/N folders count as runs (`merge` writes them back as such); otherwise a named
 * sub-folder that holds a record counts too (`compare` reads what it is given).
 */
export async function boardRuns(
  boardDir: string,
  holds: HoldsRun,
  opts: { numberedOnly: boolean },
): Promise<string[]> {
  const names = await subfolders(boardDir);
  const held = await Promise.all(names.map((n) => holds(join(boardDir, n))));
  const lost = names.findIndex((n, i) => !held[i] && NUMBERED.test(n));
  if (held.includes(true) && lost >= 0)
    throw new ForeignEntryError(
      join(boardDir, names[lost] as string, MANIFEST_FILE),
      'missing',
      ' as a regular file (the other runs of the board have theirs)',
    );
  return names
    .filter((n, i) => held[i] && (!opts.numberedOnly || NUMBERED.test(n)))
    .map((n) => join(boardDir, n));
}
