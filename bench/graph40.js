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

// 10. Check, plan and shard of the 40-board graph (issue 29 item 3): the `reprorom check`
//     process, plus loading the workspace and planning the whole build and each of 4 shards
//     in this process (the CLI has no plan-only command: this is what `build --all --shard I/4`
//     does before its first container; the modules are loaded once, untimed). Target: < 1 s.
//     `reprorom ci github --shards 4` on it is timed too, for the note.
export async function graph40Bench({ reps = 5 } = {}) {
  const { benchDir } = await import('./paths.js');
  const { cli, say } = await import('./measure.js');
  const { makeRow, median } = await import('./report.js');
  const dist = (m) => import(join(ROOT, 'dist', m));
  const { loadValidWorkspace } = await dist('workspace/load.js');
  const { planBuild } = await dist('plan/plan.js');
  const { shardBoards } = await dist('ci/shard.js');
  const ws = benchDir('work', 'graph40');
  writeGraph40(ws);
  writeFileSync(join(ws, 'package.json'), '{"name":"graph40","devDependencies":{"reprorom":"*"}}\n');
  say('graph40: 40 boards, 12 shared producers 3 levels deep; check + plan + 4 shards (+ ci github)');
  const check = () => cli(['check', '-w', ws]).wall;
  const plan = async () => {
    const t0 = performance.now();
    const loaded = await loadValidWorkspace(ws);
    const all = [...loaded.boards.keys()];
    const request = { runs: 2, jobs: 2, cores: 2 };
    planBuild(loaded, { ...request, boards: all });
    for (let i = 1; i <= 4; i++) planBuild(loaded, { ...request, boards: shardBoards(all, { index: i, count: 4 }, new Map()) });
    return (performance.now() - t0) / 1000;
  };
  const ci = () => cli(['ci', 'github', '--shards', '4', '--branch', 'main', '-w', ws]).wall;
  check(); // warm-up: the file cache
  await plan();
  const checks = [];
  const plans = [];
  const cis = [];
  for (let i = 0; i < reps; i++) {
    plans.push(await plan());
    checks.push(check());
    cis.push(ci());
  }
  const sums = checks.map((c, i) => c + plans[i]);
  return [
    makeRow({
      id: 'graph40',
      name: '40-board graph (shared producers, 3 levels deep): check + plan + shard',
      value: median(sums),
      unit: 's',
      target: { on: 'value', op: '<', limit: 1 },
      note:
        `median of ${reps}: the reprorom check process (node start-up included) ${median(checks).toFixed(2)} s, plus ` +
        `load + plan of all 40 boards and of each of 4 shards, in process (what build --all --shard does before its first container) ${median(plans).toFixed(3)} s; ` +
        `informational: reprorom ci github --shards 4 on it ${median(cis).toFixed(2)} s`,
      samples: { value: sums },
    }),
  ];
}
