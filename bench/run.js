#!/usr/bin/env node
// `npm run bench [-- --json] [-- --markdown] [-- --only ID,…] [-- --strict] [-- --clean]`
//
// Every benchmark against a baseline measured in the same run, printed as
// value / baseline / ratio / target / result and written to bench/results.json.
// Needs the compiled CLI (`npm run build`), a Docker engine with the bundled
// `firmware` image buildable, and nix (`bash .ci/setup`). The synthetic nix
// closure and the hashing input are kept in $REPROROM_BENCH_DIR (default
// /var/tmp/reprorom-bench) between runs; `--clean` removes them.
// Exit code: 0, or 1 with --strict when a target is missed; 2 when it cannot run.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, relative } from 'node:path';
import { ROOT, say } from './measure.js';
import { BENCH_DIR, WORK } from './paths.js';
import { makeRow, markdownTable, summary, textTable } from './report.js';

const args = process.argv.slice(2);
const flag = (f) => args.includes(f);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? '').split(',').filter(Boolean) : undefined;

if (flag('--clean')) {
  rmSync(BENCH_DIR, { recursive: true, force: true });
  say(`removed ${BENCH_DIR}`);
  process.exit(0);
}

/** Source files newer than their compiled output: the bench would measure old code. */
function staleDist() {
  const stale = [];
  // The CLI runs from the bundle: a source newer than it is stale too (checked once, not per file).
  const bundle = join(ROOT, 'dist', 'bundle', 'main.js');
  const bundled = existsSync(bundle) ? statSync(bundle).mtimeMs : 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) {
        const out = join(ROOT, 'dist', relative(join(ROOT, 'src'), p).replace(/\.ts$/, '.js'));
        const built = Math.min(existsSync(out) ? statSync(out).mtimeMs : 0, bundled);
        if (built < statSync(p).mtimeMs) stale.push(relative(ROOT, p));
      }
    }
  };
  walk(join(ROOT, 'src'));
  return stale;
}

if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js')) || !existsSync(join(ROOT, 'dist', 'bundle', 'main.js'))) {
  console.error('bench: dist/ is missing: run `npm run build` first');
  process.exit(2);
}
const stale = staleDist();
if (stale.length > 0) say(`warning: dist/ is older than ${stale.length} source file(s) (${stale.slice(0, 3).join(', ')}…): run \`npm run build\` to measure the current code`);

const { assemblyBench, layerReuseBench } = await import('./image.js');
const { containerBench, parallelBench } = await import('./boards.js');
const { cachedRebuildBench, hashingBench, startupBench } = await import('./cli.js');
const { compareBench } = await import('./compare.js');
const { extractBench } = await import('./extract.js');
const { graphBench } = await import('./graph.js');
const { kernelSourceBench } = await import('./kernelSource.js');
const { graph40Bench } = await import('./graph40.js');
const { storeShardsBench } = await import('./storeShards.js');

/** In the order the brief lists them; ids for --only. */
const BENCHES = [
  ['assembly', assemblyBench],
  ['cached-image', cachedRebuildBench],
  ['layer-reuse', layerReuseBench],
  ['container', containerBench],
  ['parallel', parallelBench],
  ['graph', graphBench],
  ['graph40', graph40Bench],
  ['store-shards', storeShardsBench],
  ['hashing', hashingBench],
  ['startup', startupBench],
  ['compare', compareBench],
  ['extract', extractBench],
  ['kernel-source', kernelSourceBench],
];
const unknown = (only ?? []).filter((id) => !BENCHES.some(([b]) => b === id));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark ${unknown.join(', ')}; expected some of ${BENCHES.map(([b]) => b).join(', ')}`);
  process.exit(2);
}

const started = Date.now();
const loadBefore = os.loadavg()[0];
if (loadBefore > 1) say(`warning: load average ${loadBefore.toFixed(2)} on ${os.availableParallelism()} cores: other work will blur the figures`);
const rows = [];
try {
  for (const [id, bench] of BENCHES) {
    if (only && !only.includes(id)) continue;
    const t0 = Date.now();
    const load0 = os.loadavg()[0];
    say(`${id}…`);
    try {
      for (const r of await bench()) {
        // The 1-minute load average around each benchmark: above ~0.5 on 2 cores, others were busy too.
        r.loadAverage = { before: load0, after: os.loadavg()[0] };
        rows.push(r);
        say(`  ${r.pass === null ? 'info' : r.pass ? 'pass' : 'MISS'} ${r.name}: ${r.value} ${r.unit}${r.baseline === null ? '' : ` (baseline ${r.baseline})`}`);
      }
    } catch (err) {
      // One broken benchmark should not hide the others' figures.
      rows.push(makeRow({ id, name: `${id} (failed to run)`, value: Number.NaN, unit: '', target: { on: 'value', op: '>=', limit: 0 }, note: String(err?.message ?? err).split('\n')[0] }));
      say(`  ${id} failed: ${err?.stack ?? err}`);
    }
    say(`  ${id} took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
} finally {
  rmSync(WORK, { recursive: true, force: true });
}

const results = {
  date: new Date().toISOString(),
  machine: {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    // Other work on the machine makes every figure noisier; this says how busy it was.
    loadAverage: { before: loadBefore, after: os.loadavg()[0] },
  },
  seconds: Math.round((Date.now() - started) / 1000),
  summary: summary(rows),
  benchmarks: rows,
};
await writeFile(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
if (flag('--json')) console.log(JSON.stringify(results, null, 2));
else if (flag('--markdown')) console.log(markdownTable(rows));
else console.log(textTable(rows));
say(`${results.seconds} s; ${results.summary.passed} targets met, ${results.summary.missed.length} missed${results.summary.missed.length ? ` (${results.summary.missed.join(', ')})` : ''}; written to bench/results.json`);
process.exitCode = flag('--strict') && results.summary.missed.length > 0 ? 1 : 0;
