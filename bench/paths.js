// Where the benchmarks keep what is worth keeping between runs (the built
// synthetic closure's workspace, the 2 GiB of hashing input) and their scratch.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Kept between runs; `npm run bench -- --clean` removes it. */
export const BENCH_DIR = process.env['REPROROM_BENCH_DIR'] ?? '/var/tmp/reprorom-bench';
/** Removed at the end of every run. */
export const WORK = join(BENCH_DIR, 'work');

export function benchDir(...parts) {
  const dir = join(BENCH_DIR, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
