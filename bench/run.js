#!/usr/bin/env node
// `npm run bench [-- --json]`: every benchmark, each against a baseline measured in
// the same run, printed as value / baseline / ratio / target, written to bench/results.json.
// Needs the compiled CLI (npm run build), a Docker engine and nix (bash .ci/setup).
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { assemblyBench, layerReuseBench } from './image.js';
import { containerBench, parallelBench } from './boards.js';
import { cachedRebuildBench, hashingBench, startupBench } from './cli.js';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(`${root}dist/cli/main.js`)) {
  console.error('bench: run `npm run build` first');
  process.exit(2);
}
const json = process.argv.includes('--json');
const started = Date.now();
const rows = [];
for (const bench of [assemblyBench, cachedRebuildBench, layerReuseBench, containerBench, parallelBench, hashingBench, startupBench]) {
  const t0 = Date.now();
  for (const r of await bench(root)) {
    rows.push(r);
    if (!json) console.error(`  ${r.pass ? 'ok  ' : 'MISS'} ${r.name} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
}
const results = { machine: { cores: (await import('node:os')).availableParallelism(), node: process.version }, seconds: Math.round((Date.now() - started) / 1000), benchmarks: rows };
await writeFile(`${root}bench/results.json`, `${JSON.stringify(results, null, 2)}\n`);
if (json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'benchmark'.padEnd(w)}  ${'value'.padStart(9)}  ${'baseline'.padStart(9)}  ${'ratio'.padStart(6)}  target          result`);
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(w)}  ${`${r.value}`.padStart(9)}  ${`${r.baseline ?? '-'}`.padStart(9)}  ${`${r.ratio ?? '-'}`.padStart(6)}  ${r.target.padEnd(14)}  ${r.pass ? 'pass' : 'MISS'} ${r.unit}${r.note ? ` (${r.note})` : ''}`,
    );
  }
}
process.exitCode = rows.every((r) => r.pass) ? 0 : 1;
