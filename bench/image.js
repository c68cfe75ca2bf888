// Image assembly throughput (1 GB, 2,000 store paths) against `tar -c | sha256sum`,
// and layer reuse after a one-package bump of a 50-package image.
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { row, sh, timed } from './measure.js';

const STORE = '/tmp/reprorom-bench/store';
const PATHS = 2000;
const FILES = 4;
const FILE_BYTES = 128 * 1024; // 2,000 × 4 × 128 KiB = 1 GiB

const hash = (i) => i.toString(36).padStart(32, '0');
const pathOf = (i, name = `pkg${i}`) => join(STORE, `${hash(i)}-${name}`);

/** A synthetic closure on disk: pseudo-random content (incompressible, deterministic). */
async function makeStore() {
  if (existsSync(join(STORE, '.done'))) return;
  await rm(STORE, { recursive: true, force: true });
  await mkdir(STORE, { recursive: true });
  const { createHash } = await import('node:crypto');
  for (let i = 0; i < PATHS; i++) {
    const dir = join(pathOf(i), 'lib');
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < FILES; f++) {
      const seed = createHash('sha256').update(`${i}/${f}`).digest();
      const buf = Buffer.alloc(FILE_BYTES);
      for (let o = 0; o < FILE_BYTES; o += 32) createHash('sha256').update(seed).update(String(o)).digest().copy(buf, o);
      await writeFile(join(dir, `f${f}.so`), buf);
    }
  }
  await writeFile(join(STORE, '.done'), '');
}

function infos(n, bump) {
  const base = { path: pathOf(0), narSize: FILES * FILE_BYTES, references: [] };
  const rest = Array.from({ length: n - 1 }, (_, k) => {
    const i = k + 1;
    return { path: bump === i ? pathOf(i + 100000, `pkg${i}`) : pathOf(i), narSize: FILES * FILE_BYTES, references: [base.path] };
  });
  return [base, ...rest];
}

const ASSEMBLE = `
import { planLayers } from '${process.cwd()}/dist/image/layerPlan.js';
import { writeImage } from '${process.cwd()}/dist/image/writeImage.js';
const [infosFile, out] = process.argv.slice(2);
const paths = JSON.parse(await (await import('node:fs/promises')).readFile(infosFile, 'utf8'));
const plan = planLayers(paths, { maxLayers: 100 });
const img = await writeImage(
  { layers: plan.map((g) => ({ kind: 'trees', trees: g.map((p) => ({ hostPath: p, imagePath: p.slice(1) })) })), config: { env: ['PATH=/bin'] } },
  { ociDir: out + '/oci', dockerArchive: out + '/image.tar', refName: 'bench' },
);
console.log(JSON.stringify(img.layerDigests));
`;

async function assemble(paths, out) {
  await rm(out, { recursive: true, force: true });
  await writeFile('/tmp/reprorom-bench/infos.json', JSON.stringify(paths));
  await writeFile('/tmp/reprorom-bench/assemble.mjs', ASSEMBLE);
  const r = timed(process.execPath, ['/tmp/reprorom-bench/assemble.mjs', '/tmp/reprorom-bench/infos.json', out]);
  return { ...r, layers: JSON.parse(r.stdout) };
}

export async function assemblyBench() {
  await makeStore();
  const paths = infos(PATHS);
  sh(`cat ${STORE}/*/lib/* > /dev/null`); // warm the page cache for both sides
  const baseline = sh(`cd / && tar -c ${paths.map((p) => p.path.slice(1)).join(' ')} | sha256sum > /dev/null`);
  const ours = await assemble(paths, '/tmp/reprorom-bench/out');
  await rm('/tmp/reprorom-bench/out', { recursive: true, force: true });
  return [
    row('image assembly, 1 GiB in 2,000 paths (wall)', ours.wall, baseline.wall, 's', '≤ 1.25× tar|sha256sum', ours.wall <= 1.25 * baseline.wall, 'writes the OCI layout and the docker-archive'),
    row('image assembly peak RSS', ours.rssMb, null, 'MB', '< 256 MB', ours.rssMb < 256),
  ];
}

export async function layerReuseBench() {
  await makeStore();
  // The bumped package: same name, new hash, one file changed.
  const bumped = pathOf(100017, 'pkg17');
  await rm(bumped, { recursive: true, force: true });
  sh(`cp -r ${pathOf(17)} ${bumped} && echo v2 >> ${bumped}/lib/f0.so`);
  const a = await assemble(infos(50), '/tmp/reprorom-bench/reuse-a');
  const b = await assemble(infos(50, 17), '/tmp/reprorom-bench/reuse-b');
  await rm('/tmp/reprorom-bench/reuse-a', { recursive: true, force: true });
  await rm('/tmp/reprorom-bench/reuse-b', { recursive: true, force: true });
  const kept = b.layers.filter((d) => a.layers.includes(d)).length / b.layers.length;
  return [row('layer reuse after a one-package bump (50 packages)', kept * 100, null, '%', '≥ 90 %', kept >= 0.9)];
}
