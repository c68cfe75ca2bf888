/**
 * Where the board runs of a merge input are. An input may be a run folder
 * (RUN/BOARD/N/manifest.json), one board run (BOARD/N/ or its manifest.json),
 * or a folder of run folders (what a CI system hands over after downloading
 * every shard). The format is detected, never asked for.
 */
import { lstat, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ForeignEntryError, foreignEntry } from '../archive/foreignFolder.js';
import { MANIFEST_FILE } from '../hashes/runManifest.js';
import { UsageError } from '../util/errors.js';

export interface FoundRun {
  /** The BOARD/N folder holding manifest.json. */
  dir: string;
  /** The run folder it belongs to, when there is one (its BOARD.log files go along). */
  runDir: string | undefined;
  /** The argument it came from, for messages. */
  input: string;
}

async function kind(path: string): Promise<'file' | 'dir' | undefined> {
  const s = await lstat(path).catch(() => undefined);
  return s?.isDirectory() ? 'dir' : s?.isFile() ? 'file' : undefined;
}

const subdirs = async (dir: string): Promise<string[]> => {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory() && !e.name.startsWith('.')) out.push(e.name);
    // A link, FIFO or device among the runs is refused by name, never followed (or silently skipped).
    else if (!e.isFile() && !e.isDirectory()) await foreignEntry(join(dir, e.name));
  }
  return out.sort();
};

/** BOARD/N folders of a run folder, in board then number order. */
async function runFolderRuns(runDir: string, input: string): Promise<FoundRun[]> {
  const found: FoundRun[] = [];
  for (const board of await subdirs(runDir)) {
    const numbers = (await subdirs(join(runDir, board)))
      .filter((n) => /^\d+$/.test(n))
      .sort((a, b) => Number(a) - Number(b));
    const dirs = numbers.map((n) => join(runDir, board, n));
    const held = await Promise.all(dirs.map(async (d) => (await kind(join(d, MANIFEST_FILE))) === 'file'));
    // A run that lost its manifest beside runs that have theirs: merging the others alone
    // would make an incomplete board look complete (compare refuses the same folder).
    const lost = held.indexOf(false);
    if (held.includes(true) && lost >= 0)
      throw new ForeignEntryError(
        join(dirs[lost]!, MANIFEST_FILE),
        'missing',
        ' as a regular file (the other runs of the board have theirs)',
      );
    for (const [i, dir] of dirs.entries()) if (held[i]) found.push({ dir, runDir, input });
  }
  return found;
}

export async function findRuns(input: string): Promise<FoundRun[]> {
  const path = resolve(input);
  const k = await kind(path);
  if (k === undefined) {
    throw new UsageError(
      `${input} does not exist`,
      'pass run folders written by `reprorom build` (.reprorom/runs/RUN)',
    );
  }
  if (k === 'file') {
    if (basename(path) !== MANIFEST_FILE)
      throw new UsageError(
        `${input} is not a ${MANIFEST_FILE}`,
        'pass run folders or BOARD/N/manifest.json files',
      );
    return [{ dir: dirname(path), runDir: undefined, input }];
  }
  if ((await kind(join(path, MANIFEST_FILE))) === 'file') return [{ dir: path, runDir: undefined, input }];
  const direct = await runFolderRuns(path, input);
  if (direct.length > 0) return direct;
  // A folder of run folders (for example one CI shard's download).
  const nested: FoundRun[] = [];
  for (const sub of await subdirs(path)) nested.push(...(await runFolderRuns(join(path, sub), input)));
  return nested;
}
