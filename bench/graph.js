// 9. A graph of CPU-bound boards (issue 18 step 5): `reprorom build --all --jobs 2 --runs 1`
//    against a plain bash script that starts the same containers (the arguments reprorom gave
//    the engine, read back with `docker inspect` while a warm-up build runs), with the same
//    parallelism (2) and the same order: producers first, the longest chain first, and a
//    free slot takes the first board whose producers are done.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { calibrate, imageId, workspace } from './boards.js';
import { alternate, CLI, cli, say, timed } from './measure.js';
import { benchDir } from './paths.js';
import { makeRow, median } from './report.js';

/**
 * The graph: p1 → m1 → top ← m2 ← p2, and solo on its own. Named so that the plan's order
 * (producers pulled in just before their first consumer: p1 m1 p2 m2 solo top) is not the
 * order a scheduler should start them in (p1 p2 m1 m2 solo top).
 */
export const GRAPH = {
  p1: [],
  p2: [],
  m1: ['p1'],
  m2: ['p2'],
  solo: [],
  top: ['m1', 'm2'],
};

/** Boards below a board, on its longest chain of consumers (0: nothing takes its artifact). */
export function heights(graph) {
  const memo = new Map();
  const height = (b) => {
    if (!memo.has(b)) {
      const consumers = Object.keys(graph).filter((c) => graph[c].includes(b));
      memo.set(b, consumers.length === 0 ? 0 : 1 + Math.max(...consumers.map(height)));
    }
    return memo.get(b);
  };
  for (const b of Object.keys(graph)) height(b);
  return memo;
}

/** Tasks in the order a free slot looks at them: longest chain first, then the given order. */
export function startOrder(graph, planOrder) {
  const h = heights(graph);
  return [...planOrder].sort((a, b) => h.get(b) - h.get(a) || planOrder.indexOf(a) - planOrder.indexOf(b));
}

/** A board's command: ~`seconds` of one core, then its producers' outputs and its own count. */
function boardCommand(name, producers, n) {
  const loop = `i=0; while [ $i -lt ${n} ]; do i=$((i+1)); done`;
  const gather = producers.length > 0 ? 'cat in/*.txt > out.txt; ' : ': > out.txt; ';
  return `${loop}; ${gather}echo ${name} $i >> out.txt`;
}

function inputsYaml(producers) {
  if (producers.length === 0) return '';
  return `inputs:\n${producers.map((p) => `  - { type: board, board: ${p}, artifact: out.txt, path: in/${p}.txt }\n`).join('')}`;
}

const quote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/**
 * `docker run` arguments that create the container `docker inspect` describes: the same image,
 * command, user, environment, names, limits and hardening. Labels other than reprorom's own
 * owner/run ones are kept; `-i --rm` is how a shell script does attach + remove.
 */
export function runArgs(info) {
  const c = info.Config;
  const h = info.HostConfig;
  const a = ['run', '-i', '--rm'];
  const add = (flag, v) => {
    if (v !== undefined && v !== null && v !== '' && v !== 0) a.push(flag, String(v));
  };
  add('--network', h.NetworkMode);
  for (const cap of h.CapDrop ?? []) add('--cap-drop', cap);
  for (const cap of h.CapAdd ?? []) add('--cap-add', cap);
  for (const opt of h.SecurityOpt ?? []) add('--security-opt', opt);
  if (h.ReadonlyRootfs) a.push('--read-only');
  add('--memory', h.Memory);
  add('--memory-swap', h.MemorySwap);
  add('--pids-limit', h.PidsLimit);
  add('--cpuset-cpus', h.CpusetCpus);
  for (const [path, opts] of Object.entries(h.Tmpfs ?? {})) add('--tmpfs', opts ? `${path}:${opts}` : path);
  add('--user', c.User);
  add('--workdir', c.WorkingDir);
  add('--hostname', c.Hostname);
  add('--domainname', c.Domainname);
  for (const e of c.Env ?? []) add('--env', e);
  for (const [k, v] of Object.entries(c.Labels ?? {}))
    if (k !== 'reprorom.owner' && k !== 'reprorom.run') add('--label', `${k}=${v}`);
  if (c.Entrypoint?.length) add('--entrypoint', c.Entrypoint[0]);
  a.push(c.Image, ...(c.Entrypoint?.slice(1) ?? []), ...(c.Cmd ?? []));
  return a;
}

/**
 * `reprorom build ARGS` while every container it creates is read back with `docker inspect`
 * (containers of this process only, by their owner label). Returns them by `board#index`.
 */
async function captureContainers(ws, args) {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ws,
    env: { ...process.env, NO_COLOR: '1', REPROROM_QUIET: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  let code;
  const closed = new Promise((resolve) =>
    child.on('close', (c) => {
      code = c;
      resolve();
    }),
  );
  const owner = `${hostname()}:${child.pid}`;
  const found = new Map();
  const seen = new Set();
  while (code === undefined) {
    const ps = spawnSync('docker', ['ps', '-q', '--no-trunc', '--filter', `label=reprorom.owner=${owner}`], { encoding: 'utf8' });
    const fresh = ps.stdout.split('\n').filter((id) => id && !seen.has(id));
    if (fresh.length > 0) {
      // A container removed in between is left out of the answer (and inspect exits 1).
      const r = spawnSync('docker', ['inspect', ...fresh], { encoding: 'utf8' });
      for (const info of JSON.parse(r.stdout || '[]')) {
        seen.add(info.Id);
        const l = info.Config.Labels ?? {};
        found.set(`${l['reprorom.board']}#${l['reprorom.index']}`, info);
      }
    }
    await Promise.race([closed, sleep(250)]);
  }
  if (code !== 0) throw new Error(`reprorom ${args.join(' ')} exited ${code}: ${stderr.slice(-1500)}`);
  return found;
}

/**
 * The bash script: per task, the source (and its producers' artifacts) as a tar on the
 * container's stdin, `docker run`, the artifacts out of the tar on its stdout, hashed; a
 * scheduler with `jobs` slots that starts, in `order`, the first task whose producers are done.
 */
export function baselineScript({ graph, order, containers, srcDir, uid, epoch, jobs }) {
  const lines = [
    '#!/bin/bash',
    '# Generated by bench/graph.js: the containers of `reprorom build --all --jobs 2 --runs 1`, started by hand.',
    'set -u',
    'W=$1',
    'mkfifo "$W/fifo"',
    'exec 3<>"$W/fifo"',
  ];
  for (const board of order) {
    const info = containers.get(`${board}#1`);
    if (!info) throw new Error(`the warm-up build's container of ${board} run 1 was not seen`);
    const d = `"$W/${board}"`;
    lines.push(
      `job_${board}() {`,
      '  set -eo pipefail',
      `  mkdir -p ${d}/stage/home ${d}/stage/src ${d}/out`,
      `  cp -a ${quote(srcDir)}/. ${d}/stage/src/`,
      ...(graph[board].length > 0 ? [`  mkdir -p ${d}/stage/src/in`] : []),
      ...graph[board].map((p) => `  cp "$W/${p}/out/out.txt" ${d}/stage/src/in/${p}.txt`),
      `  tar -c -b 20 --numeric-owner --owner=${uid} --group=${uid} --mtime=@${epoch} -C ${d}/stage home src \\`,
      `    | docker ${runArgs(info).map(quote).join(' ')} > ${d}/stream`,
      `  [ "$(head -c 13 ${d}/stream)" = "reprorom:tar" ]`,
      `  tail -c +14 ${d}/stream | tar -x -C ${d}/out`,
      `  (cd ${d}/out && sha256sum out.txt > ../hashes.txt)`,
      '}',
    );
  }
  lines.push(
    `order=(${order.join(' ')})`,
    'declare -A deps=(' + order.map((b) => `[${b}]="${graph[b].join(' ')}"`).join(' ') + ')',
    'declare -A fin=()',
    'left=("${order[@]}")',
    'running=0',
    'failed=0',
    'while :; do',
    `  while [ "$running" -lt ${jobs} ] && [ "$failed" -eq 0 ]; do`,
    '    pick=',
    '    for t in "${left[@]}"; do',
    '      ok=1; for d in ${deps[$t]}; do [ -n "${fin[$d]:-}" ] || ok=0; done',
    '      if [ "$ok" = 1 ]; then pick=$t; break; fi',
    '    done',
    '    [ -n "$pick" ] || break',
    '    ( job_$pick; echo "$pick $?" >&3 ) &',
    '    running=$((running + 1))',
    '    rest=(); for t in "${left[@]}"; do [ "$t" = "$pick" ] || rest+=("$t"); done; left=("${rest[@]}")',
    '  done',
    '  [ "$running" -gt 0 ] || break',
    '  read -r t rc <&3',
    '  running=$((running - 1)); fin[$t]=1',
    '  [ "$rc" = 0 ] || { echo "baseline: $t failed ($rc)" >&2; failed=1; }',
    'done',
    '[ "$failed" -eq 0 ] && [ "${#left[@]}" -eq 0 ]',
    '',
  );
  return lines.join('\n');
}

export async function graphBench({ seconds = 10, reps = 3 } = {}) {
  const probe = workspace('graph-probe', [['noop', 'true', 'README']]);
  const id = imageId(probe);
  const { n } = calibrate(id, seconds);
  const boards = Object.entries(GRAPH).map(([b, producers]) => [b, boardCommand(b, producers, n), 'out.txt', inputsYaml(producers)]);
  const ws = workspace('graph', boards);
  const args = ['build', '--all', '--jobs', '2', '--runs', '1', '-w', ws];
  say(`graph: 6 boards (p1 → m1 → top ← m2 ← p2, solo), each a ${n}-iteration shell loop (about ${seconds} s of one core)`);
  // Warm-up (not timed): the image cache entry, the first containers; and the arguments to copy.
  const containers = await captureContainers(ws, args);
  const planOrder = ['p1', 'm1', 'p2', 'm2', 'solo', 'top'];
  const order = startOrder(GRAPH, planOrder);
  const first = containers.get('p1#1');
  const uid = Number(String(first.Config.User).split(':')[0]);
  const epoch = Number((first.Config.Env.find((e) => e.startsWith('SOURCE_DATE_EPOCH=')) ?? '=1').split('=')[1]);
  const script = join(benchDir('work', 'graph-baseline'), 'baseline.sh');
  writeFileSync(script, baselineScript({ graph: GRAPH, order, containers, srcDir: join(ws, 'src'), uid, epoch, jobs: 2 }));
  chmodSync(script, 0o755);
  const ours = () => {
    const r = cli([...args, '--json'], { cwd: ws, allowFail: true });
    if (r.status !== 0) throw new Error(`reprorom build exited ${r.status}: ${r.stderr.slice(-1500)}`);
    const runs = JSON.parse(r.stdout).boards.flatMap((b) => b.runs);
    return { wall: r.wall, containers: runs.reduce((s, x) => s + (x.durationMs ?? 0), 0) / 1000 };
  };
  const base = () => {
    const scratch = join(benchDir('work', 'graph-baseline'), 'w');
    rmSync(scratch, { recursive: true, force: true });
    benchDir('work', 'graph-baseline', 'w');
    const wall = timed('bash', [script, scratch]).wall;
    rmSync(scratch, { recursive: true, force: true });
    return wall;
  };
  const [mine, theirs] = alternate(reps, ours, base);
  const value = median(mine.map((m) => m.wall));
  const baseline = median(theirs);
  return [
    makeRow({
      id: 'graph',
      name: 'graph of 6 CPU-bound boards, build --all --jobs 2 --runs 1 vs the same containers from a bash script',
      value,
      baseline,
      unit: 's',
      target: { on: 'ratio', op: '<=', limit: 1.1 },
      note:
        `median of ${reps}, alternated; about ${seconds} s of one core per board (${n} iterations); the script starts the containers the warm-up build created ` +
        `(docker inspect: same image, command, env, user, hostname, limits, cap-drop, no-new-privileges, network none) with docker run -i --rm, ` +
        `source and producers' artifacts in as a tar on stdin, artifacts out as a tar on stdout, sha256sum; two slots, order ${order.join(' ')} ` +
        `(longest chain first; a free slot takes the first task whose producers are done); reprorom's containers (create → remove) add up to ` +
        `${median(mine.map((m) => m.containers)).toFixed(1)} s`,
      samples: { value: mine.map((m) => m.wall), baseline: theirs },
    }),
  ];
}
