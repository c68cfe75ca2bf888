// Child process: hash files one after the other with reprorom's sha256File, as
// a run hashes its artifacts. Usage: node bench/child/hash.js FILE…
// Prints one `HASH  FILE` line per file (sha256sum's format) and, on stderr, the seconds spent hashing.
import { sha256File } from '../../dist/util/sha256.js';

const t0 = performance.now();
const lines = [];
for (const f of process.argv.slice(2)) lines.push(`${await sha256File(f)}  ${f}`);
process.stderr.write(`${(performance.now() - t0) / 1000}\n`);
console.log(lines.join('\n'));
