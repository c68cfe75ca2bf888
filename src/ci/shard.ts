/**
 * `--shard I/N`: a stable split of the boards over N machines. With build times
 * from earlier manifests the longest boards are placed first, each on the least
 * loaded shard; without them every board counts the same. Every machine computes
 * the same split from the same inputs, so the shards cover each board exactly once.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../util/errors.js';

export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count || count > 256) {
    throw new UsageError(`--shard ${text} is not I/N with 1 ≤ I ≤ N ≤ 256`, 'for example --shard 1/4');
  }
  return { index, count };
}

/** Assign every board to a shard; returns the boards of `shard`. */
export function shardBoards(
  boards: readonly string[],
  shard: Shard,
  durations: ReadonlyMap<string, number>,
): string[] {
  const known = boards.every((b) => durations.has(b));
  const weight = (b: string) => (known ? (durations.get(b) ?? 1) : 1);
  const ordered = [...new Set(boards)].sort((a, b) => weight(b) - weight(a) || (a < b ? -1 : a > b ? 1 : 0));
  const loads = new Array<number>(shard.count).fill(0);
  const mine: string[] = [];
  for (const board of ordered) {
    let best = 0;
    for (let i = 1; i < loads.length; i++) if (loads[i]! < loads[best]!) best = i;
    loads[best]! += weight(board);
    if (best === shard.index - 1) mine.push(board);
  }
  return mine.sort();
}

/**
 * Build times from the latest earlier run that built every one of `boards`.
 * Shard runs (a subset) never count: every machine must compute the same
 * split, and a machine's own shard history would make its split differ.
 */
export async function recordedDurations(
  runsDir: string,
  boards: readonly string[],
): Promise<Map<string, number>> {
  const runs = (await readdir(runsDir).catch(() => [] as string[])).sort().reverse();
  for (const run of runs) {
    const times = new Map<string, number>();
    for (const board of await readdir(join(runsDir, run)).catch(() => [] as string[])) {
      for (const index of await readdir(join(runsDir, run, board)).catch(() => [] as string[])) {
        try {
          const m = JSON.parse(await readFile(join(runsDir, run, board, index, 'manifest.json'), 'utf8')) as {
            board?: unknown;
            durationMs?: unknown;
          };
          if (typeof m.board === 'string' && typeof m.durationMs === 'number') {
            times.set(m.board, Math.max(times.get(m.board) ?? 0, m.durationMs));
          }
        } catch {
          // not a run folder of a board: logs, diff reports, unreadable leftovers
        }
      }
    }
    if (boards.length > 0 && boards.every((b) => times.has(b))) return times;
  }
  return new Map();
}
