/**
 * `reprorom merge`: many machines' run folders (for example one per CI shard)
 * become one run folder, so one `compare` sees every run of every board. Board
 * runs are renumbered per board; their manifests are copied unchanged (they are
 * the provenance), so each run still names its own machine and run id.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { MANIFEST_FILE, readManifest } from '../hashes/manifest.js';
import { tempSibling } from '../util/atomic.js';
import { UsageError } from '../util/errors.js';

export interface MergedBoardRun {
  board: string;
  index: number;
  from: string;
  machine: string | undefined;
}

async function boardRuns(runDir: string): Promise<Array<{ board: string; dir: string }>> {
  const found: Array<{ board: string; dir: string }> = [];
  for (const board of (await readdir(runDir)).sort()) {
    const boardDir = join(runDir, board);
    if (!(await stat(boardDir)).isDirectory() || board === 'diff' || board === 'logs') continue;
    for (const index of (await readdir(boardDir))
      .filter((n) => /^\d+$/.test(n))
      .sort((a, b) => Number(a) - Number(b))) {
      if (existsSync(join(boardDir, index, MANIFEST_FILE))) found.push({ board, dir: join(boardDir, index) });
    }
  }
  return found;
}

export async function mergeRuns(inputs: string[], out: string): Promise<MergedBoardRun[]> {
  const target = resolve(out);
  if (existsSync(target) && (await readdir(target)).length > 0) {
    throw new UsageError(`${out} already exists and is not empty`, 'merge into a new folder');
  }
  const tmp = tempSibling(target);
  await mkdir(tmp, { recursive: true });
  const merged: MergedBoardRun[] = [];
  const next = new Map<string, number>();
  const seen = new Map<string, string>();
  try {
    for (const input of inputs) {
      const dir = resolve(input);
      const runs = await boardRuns(dir).catch(() => []);
      if (runs.length === 0) {
        throw new UsageError(
          `${input} holds no board runs (BOARD/N/manifest.json)`,
          'pass run folders written by `reprorom build`',
        );
      }
      for (const r of runs) {
        const manifest = await readManifest(join(r.dir, MANIFEST_FILE));
        if (manifest.board !== r.board) {
          throw new UsageError(
            `${r.dir}: the manifest is for board ${manifest.board}, not ${r.board}`,
            'do not rename board folders',
          );
        }
        const key = `${manifest.run.id}/${manifest.board}#${manifest.run.index}@${manifest.run.machine ?? ''}`;
        if (seen.has(key)) {
          throw new UsageError(
            `${r.dir} is the same run as ${seen.get(key)} (${key})`,
            'pass each run folder once',
          );
        }
        seen.set(key, r.dir);
        const index = (next.get(r.board) ?? 0) + 1;
        next.set(r.board, index);
        await cp(r.dir, join(tmp, r.board, String(index)), { recursive: true });
        merged.push({ board: r.board, index, from: r.dir, machine: manifest.run.machine });
      }
      for (const log of (await readdir(dir)).filter((f) => f.endsWith('.log'))) {
        await mkdir(join(tmp, 'logs', basename(dir)), { recursive: true });
        await cp(join(dir, log), join(tmp, 'logs', basename(dir), log));
      }
    }
    await mkdir(dirname(target), { recursive: true });
    await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
    return merged;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
