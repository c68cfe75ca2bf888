// Where the benchmarks keep what is worth keeping between runs (the built
// synthetic closure's workspace, the 2 GiB of hashing input) and their scratch.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Kept between runs; `npm run bench -- --clean` removes it. */
export const BENCH_DIR = process.env['REPROROM_BENCH_DIR'] ?? '/var/tmp/reprorom-bench';
/**
 * Scratch of this run alone, removed at its end: one folder per process, so two bench runs
 * at once (or a row run on its own) never remove each other's files.
 */
export const WORK = join(BENCH_DIR, 'work', String(process.pid));

export function benchDir(...parts) {
  const dir = join(BENCH_DIR, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
