// Child process: only the second half of writeImage, the docker-archive streamed
// from a finished OCI layout, to show how much of the assembly time it takes.
// Usage: node bench/child/archive.js OCIDIR ARCHIVE   (prints { seconds })
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dockerManifestJson } from '../../dist/image/imageConfig.js';
import { writeDockerArchive } from '../../dist/image/writeImage.js';

const [ociDir, archive] = process.argv.slice(2);
const index = await readFile(join(ociDir, 'index.json'), 'utf8');
const desc = JSON.parse(index).manifests[0];
const blob = (d) => join(ociDir, 'blobs', 'sha256', d.slice('sha256:'.length));
const manifest = JSON.parse(await readFile(blob(desc.digest), 'utf8'));
const layerDigests = manifest.layers.map((l) => l.digest);
const repoTag = desc.annotations?.['io.containerd.image.name'];
const layout = {
  blobDigests: [...new Set([...layerDigests, manifest.config.digest, desc.digest])],
  dockerManifest: dockerManifestJson(manifest.config.digest, layerDigests, repoTag ? [repoTag] : []),
  index,
};
const t0 = performance.now();
await writeDockerArchive(ociDir, archive, layout);
console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000 }));
