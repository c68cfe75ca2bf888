// 8. `compare` of two 1,000,000-line sha256sum files (1,000 mismatches, lines in no order) against
// the `sort | join | awk` pipeline that does the same matching, time and peak memory (issue 29).
// Callable alone: `node bench/compare.js` prints the rows (no engine or nix needed).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mulberry32 } from '../dist/sources/order.js';
import { CLI, alternate, say, timed } from './measure.js';
import { benchDir } from './paths.js';
import { makeRow, median } from './report.js';

const LINES = 1_000_000;
const MISMATCHES = 1_000;

/** Shuffled in place by a seeded generator: the same files on every machine. */
function shuffle(lines, seed) {
  const rand = mulberry32(seed);
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [lines[i], lines[j]] = [lines[j], lines[i]];
  }
  return lines;
}

/**
 * Two folders each with a 1M-line list in sha256sum's format (about 96 MB), each in its own
 * order (as `find | xargs sha256sum` lists on two machines), the second with 1,000 other hashes;
 * made once, kept.
 */
function compareInputs() {
  const dir = benchDir('compare', 'unsorted');
  const a = join(dir, 'a', 'hashes.txt');
  const b = join(dir, 'b', 'hashes.txt');
  if (!existsSync(a) || !existsSync(b) || statSync(b).size < LINES * 80) {
    say(`writing two ${LINES.toLocaleString('en-US')}-line sha256sum files…`);
    const lines = [];
    for (let i = 0; i < LINES; i++) {
      const sha = createHash('sha256').update(String(i)).digest('hex');
      lines.push(`${sha}  out/board-${String(i % 1000).padStart(3, '0')}/rom-${String(i).padStart(7, '0')}.bin\n`);
    }
    mkdirSync(join(dir, 'a'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    writeFileSync(a, shuffle(lines.slice(), 7).join(''));
    for (let k = 0; k < MISMATCHES; k++) {
      const i = k * (LINES / MISMATCHES) + 37;
      lines[i] = `${'0'.repeat(63)}${k % 10}${lines[i].slice(64)}`;
    }
    writeFileSync(b, shuffle(lines, 11).join(''));
  }
  return { a, b };
}

const pipeline = (a, b) => `join -j 2 <(sort -k2 ${a}) <(sort -k2 ${b}) | awk '$2!=$3'`;

export async function compareBench({ reps = 3 } = {}) {
  const { a, b } = compareInputs();
  const env = { ...process.env, NO_COLOR: '1' };
  // Right answer first: exit 1, the summary line, and the pipeline finds as many.
  const check = timed(process.execPath, [CLI, 'compare', a, b], { allowFail: true, env });
  const summary = `NOT reproducible: ${LINES - MISMATCHES} reproducible, ${MISMATCHES} mismatch`;
  const found = timed('bash', ['-c', `${pipeline(a, b)} | wc -l`]).stdout.trim();
  if (check.status !== 1 || !check.stdout.trimEnd().endsWith(summary) || found !== String(MISMATCHES))
    throw new Error(`compare gave exit ${check.status}, "${check.stdout.trimEnd().split('\n').pop()}"; the pipeline found ${found}`);
  const [o, base] = alternate(
    reps,
    () => timed(process.execPath, [CLI, 'compare', a, b], { allowFail: true, env, stdio: ['ignore', 'ignore', 'pipe'] }),
    () => timed('bash', ['-c', `${pipeline(a, b)} > /dev/null`]),
  );
  const wall = (rs) => rs.map((r) => r.wall);
  const rss = (rs) => rs.map((r) => r.rssMb);
  return [
    makeRow({
      id: 'compare',
      name: `compare of two ${LINES.toLocaleString('en-US')}-line sha256sum files in no order (${MISMATCHES.toLocaleString('en-US')} mismatches), table to /dev/null, vs sort | join | awk`,
      value: median(wall(o)),
      baseline: median(wall(base)),
      unit: 's',
      target: { on: 'ratio', op: '<=', limit: 1.0 },
      note: `incl. process start, median of ${reps}; baseline \`${pipeline('A', 'B')}\` (C.UTF-8 or the machine's locale), alternated`,
      samples: { value: wall(o), baseline: wall(base) },
    }),
    makeRow({
      id: 'compare-rss',
      name: 'compare of the same files: peak RSS (baseline: the pipeline as GNU time reports it)',
      value: Math.max(...rss(o)),
      baseline: Math.max(...rss(base)),
      unit: 'MB',
      target: { on: 'value', op: '<', limit: 250 },
      note: 'the largest of the runs',
      samples: { value: rss(o), baseline: rss(base) },
    }),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await compareBench({ reps: 1 })) console.log(JSON.stringify(row, null, 2));
}
