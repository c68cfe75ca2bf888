// Child process, diagnostic: what assembleImage does minus the docker-archive
// (the same plan, layer tars, root layer and OCI layout, from the same modules),
// to show what the assembly would cost if the archive were not written at build
// time. Usage: node bench/child/layout.js INPUTS.json OUTDIR   (prints { seconds, id })
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imageEnv, MAX_STORE_LAYERS } from '../../dist/imagebuild/assemble.js';
import { planLayers } from '../../dist/image/layerPlan.js';
import { rootLayerEntries } from '../../dist/image/rootLayer.js';
import { treesLayer, writeLayer } from '../../dist/image/tarLayer.js';
import { finishLayout } from '../../dist/image/writeImage.js';

const [inputs, outDir] = process.argv.slice(2);
const { image, def, devEnv, paths } = JSON.parse(await readFile(inputs, 'utf8'));
const onPath = (p) => (devEnv.PATH ?? '').split(':').map((d) => join(d, p)).find((f) => existsSync(f));
const t0 = performance.now();
const blobs = join(outDir, 'blobs', 'sha256');
await mkdir(blobs, { recursive: true });
const layers = [];
for (const group of planLayers(paths, { maxLayers: MAX_STORE_LAYERS })) {
  layers.push(await writeLayer(treesLayer(group.map((p) => ({ hostPath: p, imagePath: p.slice(1) }))), blobs));
}
const shell = onPath('sh') ?? onPath('bash');
const env = onPath('env');
layers.push(await writeLayer(rootLayerEntries({ user: def.user, ...(shell ? { shell } : {}), ...(env ? { env } : {}) }), blobs));
const layout = await finishLayout(
  outDir,
  layers,
  {
    config: {
      env: imageEnv(def, devEnv, false),
      cmd: ['/bin/sh'],
      workingDir: '/build',
      user: `${def.user.uid}:${def.user.uid}`,
      labels: { 'org.reprorom.image': image },
    },
  },
  { refName: image, repoTag: (id) => `reprorom/${image}:${id.slice(7, 19)}` },
);
console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, id: layout.id }));
