// 1. Image assembly throughput: a real nix closure of 1 GiB in 2,000+ store paths
//    (a synthetic flake built once and kept), assembled by reprorom's
//    assembleImage, against `tar -c | sha256sum` of the same store paths.
// 3. Layer reuse: a 50-package image built with the CLI, one leaf package bumped,
//    built again: the share of layer digests that did not change.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, node, rotate, say, sh, timed } from './measure.js';
import { benchDir, WORK } from './paths.js';
import { makeRow, median } from './report.js';
import { writeSynthWorkspace } from './synthFlake.js';

const NIX_ENV = { ...process.env, NIX_CONFIG: 'experimental-features = nix-command flakes\nsubstituters =\nflake-registry =\nwarn-dirty = false' };

/** 2,048 packages × 512 KiB in 16 files each = 1 GiB of package data. */
export const CLOSURE = { packages: 2048, bytesPerPackage: 512 * 1024, filesPerPackage: 16 };
const REUSE = { packages: 50, bytesPerPackage: 64 * 1024, filesPerPackage: 4 };

/**
 * A workspace whose pin is the synthetic flake, with every package built and
 * rooted against garbage collection (`gcroot`). Rebuilt only when the options change.
 */
async function synthWorkspace(name, o) {
  const ws = benchDir(name);
  const marker = join(ws, '.ready');
  const want = JSON.stringify(o);
  if (existsSync(marker) && readFileSync(marker, 'utf8') === want && existsSync(join(ws, 'gcroot'))) return ws;
  say(`generating the synthetic flake ${name} (${o.packages} packages); nix builds it once and keeps it`);
  await writeSynthWorkspace(ws, o);
  const t = timed('nix', ['build', '--max-jobs', '2', '--out-link', join(ws, 'gcroot'), `path:${join(ws, 'pins', 'synth')}#all`], { env: NIX_ENV });
  say(`built in ${t.wall.toFixed(0)} s`);
  cli(['pin', 'lock', 'synth', '-w', ws]);
  writeFileSync(marker, want);
  return ws;
}

export async function assemblyBench({ reps = 5 } = {}) {
  const ws = await synthWorkspace('closure', CLOSURE);
  const work = benchDir('work', 'assembly');
  const inputs = join(work, 'inputs.json');
  const nixStep = node('child/nixInputs.js', [ws, 'synth', inputs], { env: NIX_ENV });
  const { paths } = JSON.parse(readFileSync(inputs, 'utf8'));
  const narBytes = paths.reduce((s, p) => s + p.narSize, 0);
  const list = join(work, 'paths.txt');
  writeFileSync(list, `${paths.map((p) => p.path.slice(1)).join('\n')}\n`);
  const tarCmd = `tar -C / -cf - -T ${list}`;
  say(`closure: ${paths.length} store paths, ${(narBytes / 2 ** 30).toFixed(2)} GiB (nix dev env + closure ${nixStep.wall.toFixed(1)} s)`);

  // Warm the page cache for every side (tar -f /dev/null would skip reading file bodies).
  sh(`${tarCmd} | cat > /dev/null`);
  // Before each timed run: earlier outputs removed and nothing left dirty, so no side
  // pays for another's writeback (on this VM a third GiB of dirty pages stalls writes).
  const out = join(work, 'out');
  const settle = () => {
    rmSync(out, { recursive: true, force: true });
    for (const f of ['blob', 'copy']) rmSync(join(work, f), { force: true });
    sh('sync');
  };
  const assemble = (dir) => {
    const r = node('child/assemble.js', [inputs, dir]);
    const j = JSON.parse(r.stdout);
    return { wall: r.wall, rssMb: Math.max(r.rssMb, j.maxRssMb), layers: j.layers, id: j.id };
  };
  const [ours, base] = rotate(reps, [
    () => {
      settle();
      return assemble(out);
    },
    () => {
      settle();
      return sh(`${tarCmd} | sha256sum > /dev/null`).wall;
    },
  ]);
  settle();

  // On tmpfs, so this VM's disk writeback does not blur it: the assembly, and what a
  // docker-archive file costs on top (written only for `image build --out`).
  const shm = `/dev/shm/reprorom-bench-${process.pid}`;
  let mem;
  try {
    const full = median([1, 2].map(() => (rmSync(shm, { recursive: true, force: true }), assemble(shm).wall)));
    const archive = JSON.parse(node('child/archive.js', [join(shm, 'oci'), join(shm, 'image.tar')]).stdout).seconds;
    mem = { full, archive };
  } finally {
    rmSync(shm, { recursive: true, force: true });
  }

  // What a user runs: the whole CLI, nix included, once (its image ID must be assembleImage's).
  const cliCache = join(work, 'cli-cache');
  settle();
  const user = cli(['image', 'build', 'synth', '-w', ws, '--rebuild', '--no-load', '--json'], { env: { ...NIX_ENV, REPROROM_CACHE: cliCache } });
  const userId = JSON.parse(user.stdout).id;
  rmSync(cliCache, { recursive: true, force: true });

  const wall = median(ours.map((o) => o.wall));
  const baseline = median(base);
  const rss = Math.max(...ours.map((o) => o.rssMb));
  const size = `${paths.length} paths, ${(narBytes / 2 ** 30).toFixed(2)} GiB`;
  return [
    makeRow({
      id: 'assembly',
      name: `image assembly (${size}) vs tar -c | sha256sum`,
      value: wall,
      baseline,
      unit: 's',
      target: { on: 'ratio', op: '<=', limit: 1.25 },
      note:
        `assembleImage into the bench folder on disk: ${ours[0].layers} layers + OCI layout, one copy of the image (the docker-archive is streamed to the engine at load time); ` +
        `the baseline writes nothing; page cache warm, nothing dirty at the start of each run, rotated, median of ${reps}`,
      samples: { value: ours.map((o) => o.wall), baseline: base },
    }),
    makeRow({
      id: 'assembly-tmpfs',
      name: 'image assembly into tmpfs (no disk writeback) vs tar -c | sha256sum',
      value: mem.full,
      baseline,
      unit: 's',
      note: `informational, assembleImage into /dev/shm, median of 2 (no disk writeback, though fresh memory pages still cost on this VM); a docker-archive file (image build --out) takes ${mem.archive.toFixed(2)} s more there`,
    }),
    makeRow({
      id: 'assembly-cli',
      name: '`reprorom image build synth --rebuild --no-load` (whole CLI, nix included)',
      value: user.wall,
      baseline,
      unit: 's',
      note: `informational, one run: process start, pin check, nix dev env and closure, assembly, cache entry${userId === ours[0].id ? '; same image ID as assembleImage' : ' (WARNING: image ID differs from assembleImage)'}`,
    }),
    makeRow({ id: 'assembly-rss', name: 'image assembly peak RSS', value: rss, unit: 'MB', target: { on: 'value', op: '<', limit: 256 } }),
    makeRow({
      id: 'assembly-nix',
      name: 'nix dev env + closure of the same image (before assembly)',
      value: nixStep.wall,
      unit: 's',
      note: 'informational: `image build --rebuild` spends this in nix before assembling',
    }),
  ];
}

/** Layer digests of an OCI layout's (only) manifest, bottom first. */
function layerDigests(oci) {
  const index = JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(oci, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  return manifest.layers.map((l) => l.digest);
}

export async function layerReuseBench() {
  const ws = benchDir('reuse');
  const cache = join(WORK, 'reuse-cache');
  const build = async (bump) => {
    await writeSynthWorkspace(ws, { ...REUSE, ...(bump ? { bump } : {}) });
    cli(['pin', 'lock', 'synth', '-w', ws]);
    const oci = join(WORK, `reuse-${bump ? 'bumped' : 'base'}`);
    rmSync(oci, { recursive: true, force: true });
    cli(['image', 'build', 'synth', '-w', ws, '--no-load', '--oci', oci], { env: { REPROROM_CACHE: cache } });
    return layerDigests(oci);
  };
  const before = await build(undefined);
  // p17 is a leaf (only the image refers to it): a new version of one package.
  const after = await build({ index: 17, salt: 'v2' });
  const kept = after.filter((d) => before.includes(d)).length;
  return [
    makeRow({
      id: 'layer-reuse',
      name: `layer reuse after a one-package bump (${REUSE.packages} packages)`,
      value: (100 * kept) / after.length,
      unit: '%',
      target: { on: 'value', op: '>=', limit: 90 },
      note: `${kept} of ${after.length} layer digests unchanged`,
    }),
  ];
}
