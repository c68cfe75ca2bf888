// 11. A sharded graph run with the producer store (issue 29 item 5): one CPU-bound producer
//     `p` (built by name only: `all: false`) feeding two cheap boards `a` and `b`, built as
//     `build --all --runs 1 --shard I/2` for I = 1, 2 one after the other (two CI jobs; the
//     store folder stands in for the CI cache). With `--store`, shard 1 builds p and keeps it,
//     shard 2 restores it; without, both shards build p. Value: both shards' wall time with the
//     store; baseline: without. Target: ratio ≤ 0.75 (p takes ~`seconds` of one core, a and b ~0).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { calibrate, imageId, workspace } from './boards.js';
import { alternate, cli, say } from './measure.js';
import { benchDir } from './paths.js';
import { makeRow, median } from './report.js';

const input = (p) => `inputs:\n  - { type: board, board: ${p}, artifact: out.txt, path: in/${p}.txt }\n`;

export async function storeShardsBench({ seconds = 8, reps = 3 } = {}) {
  const id = imageId(workspace('store-probe', [['noop', 'true', 'README']]));
  const { script, n } = calibrate(id, seconds);
  const ws = workspace('store-shards', [
    ['p', script, 'out.txt', 'all: false\n'],
    ['a', 'cat in/p.txt > out.txt; echo a >> out.txt', 'out.txt', input('p')],
    ['b', 'cat in/p.txt > out.txt; echo b >> out.txt', 'out.txt', input('p')],
  ]);
  say(`store shards: producer p (${n}-iteration loop, about ${seconds} s of one core) feeding a and b, two shards`);
  const store = join(benchDir('work', 'store-shards-cache'), 'store');
  /** Both shards, one after the other; returns their wall times and how p got into shard 2. */
  const shards = (withStore) => () => {
    rmSync(store, { recursive: true, force: true });
    const walls = [];
    let second;
    for (const i of [1, 2]) {
      const args = ['build', '--all', '--runs', '1', '--shard', `${i}/2`, '--json', '-w', ws, ...(withStore ? ['--store', store] : [])];
      const r = cli(args, { cwd: ws, env: { REPROROM_STORE: '' } });
      walls.push(r.wall);
      second = JSON.parse(r.stdout).boards.find((b) => b.board === 'p');
    }
    const restored = Boolean(second?.runs?.[0]?.restored);
    return { total: walls[0] + walls[1], second: walls[1], restored };
  };
  shards(true)(); // warm-up: first containers of this image
  const [mine, theirs] = alternate(reps, shards(true), shards(false));
  if (!mine.every((m) => m.restored)) throw new Error('shard 2 did not restore p from the store');
  if (theirs.some((t) => t.restored)) throw new Error('shard 2 restored p without a store');
  const value = median(mine.map((m) => m.total));
  const baseline = median(theirs.map((t) => t.total));
  return [
    makeRow({
      id: 'store-shards',
      name: 'two shards sharing a producer: with the store (built once, restored) vs built in every shard',
      value,
      baseline,
      unit: 's',
      target: { on: 'ratio', op: '<=', limit: 0.75 },
      note:
        `median of ${reps}, alternated; build --all --runs 1 --shard 1/2 then 2/2, p about ${seconds} s of one core (${n} iterations), a and b ~0; ` +
        `shard 2 alone: ${median(mine.map((m) => m.second)).toFixed(1)} s restoring p vs ${median(theirs.map((t) => t.second)).toFixed(1)} s building it`,
      samples: { value: mine.map((m) => m.total), baseline: theirs.map((t) => t.total) },
    }),
  ];
}
