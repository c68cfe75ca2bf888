// Container overhead of a board run, and the speed-up of --jobs 2 over --jobs 1.
import { mkdir, mkdtemp, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, row, timed } from './measure.js';

async function workspace(root, boards) {
  const ws = await mkdtemp(join(tmpdir(), 'rr-bench-'));
  await cp(join(root, 'pins'), join(ws, 'pins'), { recursive: true });
  await cp(join(root, 'images'), join(ws, 'images'), { recursive: true });
  await mkdir(join(ws, 'boards'));
  await mkdir(join(ws, 'src'));
  await writeFile(join(ws, 'src', 'README'), 'bench\n');
  for (const [name, command, artifact] of boards) {
    await writeFile(join(ws, 'boards', `${name}.yaml`), `image: firmware\nsource: { type: local, path: src }\ncommands:\n  - ${JSON.stringify(command)}\nartifacts: [${artifact}]\n`);
  }
  return ws;
}

const cli = (root, ws, ...args) => timed(process.execPath, [`${root}bin/reprorom.js`, ...args, '-w', ws], { cwd: ws, env: { ...process.env, NO_COLOR: '1' } });

export async function containerBench(root) {
  const ws = await workspace(root, [['noop', 'true', 'README']]);
  const id = JSON.parse(cli(root, ws, 'image', 'build', 'firmware', '--json').stdout).id;
  cli(root, ws, 'build', 'noop');
  const ours = median([1, 2, 3, 4, 5].map(() => cli(root, ws, 'build', 'noop').wall));
  const base = median([1, 2, 3, 4, 5].map(() => timed('docker', ['run', '--rm', '--network', 'none', id, 'true']).wall));
  return [row('board with command `true` vs docker run true', ours, base, 's', '≤ 1.5× docker run', ours <= 1.5 * base, 'incl. source copy-in, artifact copy-out, manifests, compare')];
}

export async function parallelBench(root) {
  const spin = 'i=0; while [ $i -lt 6 ]; do head -c 150000000 /dev/zero | sha256sum > /dev/null; i=$((i+1)); done; cp README out.txt';
  const ws = await workspace(root, ['p1', 'p2', 'p3', 'p4'].map((n) => [n, spin, 'out.txt']));
  cli(root, ws, 'image', 'build', 'firmware');
  const one = cli(root, ws, 'build', '--all', '--jobs', '1').wall;
  const two = cli(root, ws, 'build', '--all', '--jobs', '2').wall;
  return [row('four CPU-bound boards, --jobs 2 vs --jobs 1 (speed-up)', one / two, null, '×', '≥ 1.7×', one / two >= 1.7, `${one.toFixed(1)} s vs ${two.toFixed(1)} s`)];
}
