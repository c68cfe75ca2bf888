// Child process: one image assembly through reprorom's own assembleImage (plan,
// layer tars, OCI layout), exactly as `image build` calls it.
// Usage: node bench/child/assemble.js INPUTS.json OUTDIR
// Prints { seconds, maxRssMb, layers, layerDigests, bytes } as JSON.
import { readFile } from 'node:fs/promises';
import { assembleImage } from '../../dist/imagebuild/assemble.js';

const [inputs, outDir] = process.argv.slice(2);
const { image, def, devEnv, paths } = JSON.parse(await readFile(inputs, 'utf8'));
const t0 = performance.now();
const r = await assembleImage({ name: image, def, devEnv, paths, fhsTarget: undefined, outDir });
const seconds = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    id: r.id,
    layers: r.layerDigests.length,
    layerDigests: r.layerDigests,
  }),
);
