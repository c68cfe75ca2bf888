// Child process: extract an artifact archive as a run does (extractArchive with the artifact
// policy). Usage: node bench/child/extract.js ARCHIVE.tar OUT
// Prints the number of files written and, on stderr, the seconds spent extracting.
import { createReadStream } from 'node:fs';
import { artifactPolicy, extractArchive } from '../../dist/archive/extract.js';

const [archive, out] = process.argv.slice(2);
const t0 = performance.now();
const files = await extractArchive(createReadStream(archive), out, artifactPolicy);
process.stderr.write(`${(performance.now() - t0) / 1000}\n`);
console.log(files.length);
