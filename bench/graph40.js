// A Heads-sized workspace (issue 29 item 3): 40 boards whose producers are shared and
// 3 levels deep, as Heads' boards share toolchains, coreboot trees and kernels:
//   2 toolchains → 4 coreboot trees (each on one toolchain) → 6 kernels (each on one tree)
//   → 28 ROMs (each takes one kernel and one tree).
// Used by the test of check/plan/shard on it (test/unit/graph40.test.ts) and by the bench.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pad = (n) => String(n).padStart(2, '0');

/** The graph: board → the boards it takes an input from. */
export function graph40() {
  const graph = {};
  for (let i = 1; i <= 2; i++) graph[`tc${i}`] = [];
  for (let i = 1; i <= 4; i++) graph[`cb${i}`] = [`tc${((i - 1) % 2) + 1}`];
  for (let i = 1; i <= 6; i++) graph[`linux${i}`] = [`cb${((i - 1) % 4) + 1}`];
  for (let i = 1; i <= 28; i++) graph[`rom${pad(i)}`] = [`linux${((i - 1) % 6) + 1}`, `cb${((i + 1) % 4) + 1}`];
  return graph;
}

/** A board's default command: its producers' outputs and its own name, into out.txt (cheap). */
const gather = (name, producers) =>
  `${producers.length > 0 ? 'cat in/*.txt > out.txt; ' : ': > out.txt; '}echo ${name} >> out.txt`;

/**
 * Write the workspace into `root`: this repository's pins and images (so the bundled
 * `firmware` image is the cached one), a one-file local source, and the 40 boards.
 * `command(name, producers)` is each board's shell command (default: gather the inputs).
 */
export function writeGraph40(root, { command = gather } = {}) {
  const graph = graph40();
  cpSync(join(ROOT, 'pins'), join(root, 'pins'), { recursive: true });
  cpSync(join(ROOT, 'images'), join(root, 'images'), { recursive: true });
  mkdirSync(join(root, 'boards'), { recursive: true });
  mkdirSync(join(root, 'src'), { recursive: true });
  writeFileSync(join(root, 'src', 'README'), 'graph40\n');
  for (const [name, producers] of Object.entries(graph)) {
    const inputs = producers.length
      ? `inputs:\n${producers.map((p) => `  - { type: board, board: ${p}, artifact: out.txt, path: in/${p}.txt }\n`).join('')}`
      : '';
    writeFileSync(
      join(root, 'boards', `${name}.yaml`),
      `image: firmware\nsource: { type: local, path: src }\ncommands:\n  - ${JSON.stringify(command(name, producers))}\nartifacts: [out.txt]\nsourceDateEpoch: 1\n${inputs}`,
    );
  }
  return graph;
}
