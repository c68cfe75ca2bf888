// Child process: the docker-archive file `image build --out` writes from a finished
// OCI layout (exportDockerArchive), to show what that file costs on top of assembly.
// Usage: node bench/child/archive.js OCIDIR ARCHIVE   (prints { seconds })
import { exportDockerArchive } from '../../dist/image/dockerArchive.js';

const [ociDir, archive] = process.argv.slice(2);
const t0 = performance.now();
await exportDockerArchive(ociDir, archive);
console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000 }));
