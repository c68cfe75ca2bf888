// 4. Container overhead (informational, no target): a board whose command is `true`
//    through `reprorom build`, against `docker run --rm --network none IMAGE true`.
// 5. Parallel boards: four CPU-bound boards, `--jobs 2` against `--jobs 1`.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alternate, cli, ROOT, say, sh, timed } from './measure.js';
import { benchDir } from './paths.js';
import { makeRow, median } from './report.js';

/**
 * A workspace with the bundled pins and images (so the firmware image is a cache hit) and these
 * boards: [name, command, artifact, extra YAML lines (e.g. `inputs:`)].
 */
export function workspace(name, boards) {
  const ws = benchDir('work', name);
  cpSync(join(ROOT, 'pins'), join(ws, 'pins'), { recursive: true });
  cpSync(join(ROOT, 'images'), join(ws, 'images'), { recursive: true });
  mkdirSync(join(ws, 'boards'), { recursive: true });
  mkdirSync(join(ws, 'src'), { recursive: true });
  writeFileSync(join(ws, 'src', 'README'), 'bench\n');
  for (const [board, command, artifact, extra = ''] of boards) {
    writeFileSync(
      join(ws, 'boards', `${board}.yaml`),
      `image: firmware\nsource: { type: local, path: src }\ncommands:\n  - ${JSON.stringify(command)}\nartifacts: [${artifact}]\nsourceDateEpoch: 1\n${extra}`,
    );
  }
  return ws;
}

export function imageId(ws) {
  return JSON.parse(cli(['image', 'build', 'firmware', '--json', '-w', ws]).stdout).id;
}

export async function containerBench({ reps = 5 } = {}) {
  const ws = workspace('noop', [['noop', 'true', 'README']]);
  const id = imageId(ws);
  const build = () => {
    const r = cli(['build', 'noop', '-w', ws, '--json'], { cwd: ws });
    return { wall: r.wall, container: JSON.parse(r.stdout).boards[0].runs[0].durationMs / 1000 };
  };
  build(); // warm-up: first source copy, first container of this image
  const [ours, base] = alternate(reps, build, () => timed('docker', ['run', '--rm', '--network', 'none', id, 'true']).wall);
  // The same steps reprorom takes with an image that has GNU tar, through the docker CLI:
  // hardened container, source in as a tar on stdin, run, artifact out as a tar on stdout.
  const out = benchDir('work', 'noop-out');
  const steps = Array.from({ length: 3 }, () =>
    sh(
      `tar -c -C ${ws} src | docker run -i --rm --network none --cap-drop ALL --security-opt no-new-privileges --user 1000:1000 --memory 4g --pids-limit 4096 ${id} ` +
        `sh -c 'tar -x -f - -C /build && cd /build/src && true && tar -c -f - README' > ${out}/README.tar`,
    ).wall,
  );
  const wall = median(ours.map((o) => o.wall));
  const container = median(ours.map((o) => o.container));
  return [
    makeRow({
      id: 'container',
      name: 'board with command `true` vs docker run --rm --network none IMAGE true',
      value: wall,
      baseline: median(base),
      unit: 's',
      note:
        `informational (a board run takes seconds to minutes; this is its fixed cost); median of ${reps}, alternated; reprorom's figure is the whole \`reprorom build noop\` process: node start, workspace validation, ` +
        `image cache check, build lock, source copy (1 file), hardened container create, start, source in and artifact out through ` +
        `the image's tar, wait, hashes/manifest/provenance, compare; of it, the container part (create → remove) is ${container.toFixed(2)} s`,
      samples: { value: ours.map((o) => o.wall), baseline: base },
    }),
    makeRow({
      id: 'container-same-steps',
      name: 'board with command `true` vs the same steps through the docker CLI',
      value: wall,
      baseline: median(steps),
      unit: 's',
      note: 'informational: tar -c | docker run -i (same hardening) sh -c "tar -x; true; tar -c" > file',
    }),
  ];
}

/** Iterations of a dash arithmetic loop that take about `seconds` of one core in the image. */
export function calibrate(id, seconds) {
  const probe = 2_000_000;
  const loop = (n) => `i=0; while [ $i -lt ${n} ]; do i=$((i+1)); done`;
  const empty = timed('docker', ['run', '--rm', '--network', 'none', id, 'true']).wall;
  const t = timed('docker', ['run', '--rm', '--network', 'none', id, 'sh', '-c', loop(probe)]).wall;
  const n = Math.round((probe * seconds) / Math.max(0.1, t - empty));
  return { n, script: `${loop(n)}; echo $i > out.txt` };
}

export async function parallelBench({ seconds = 5, reps = 3 } = {}) {
  const id = imageId(workspace('parallel-probe', [['noop', 'true', 'README']]));
  const { n, script } = calibrate(id, seconds);
  const names = ['cpu1', 'cpu2', 'cpu3', 'cpu4'];
  const ws = workspace(
    'parallel',
    names.map((b) => [b, script, 'out.txt']),
  );
  say(`parallel boards: 4 × a ${n}-iteration shell loop (about ${seconds} s of one core each)`);
  // Alternated, so a neighbour taking CPU for a while (a shared VM) slows both sides alike.
  const jobs = (j) => () => cli(['build', '--all', '--jobs', String(j), '-w', ws], { cwd: ws }).wall;
  const [ones, twos] = alternate(reps, jobs(1), jobs(2));
  const one = median(ones);
  const two = median(twos);
  return [
    makeRow({
      id: 'parallel',
      name: 'four CPU-bound boards: speed-up of --jobs 2 over --jobs 1',
      value: one / two,
      unit: '×',
      target: { on: 'value', op: '>=', limit: 1.7 },
      note: `median of ${reps}, alternated: --jobs 1 ${one.toFixed(1)} s, --jobs 2 ${two.toFixed(1)} s, on ${(await import('node:os')).availableParallelism()} cores`,
      // Each pair's own speed-up.
      samples: { value: ones.map((o, i) => o / twos[i]) },
    }),
  ];
}
