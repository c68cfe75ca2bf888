// 8. `compare` of two 1,000,000-line hashes files: matching by map, not by scan.
// Callable alone: `node bench/compare.js` prints the row (no engine or nix needed).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { alternate, CLI, say, sh } from './measure.js';
import { benchDir } from './paths.js';
import { makeRow, median } from './report.js';

const LINES = 1_000_000;

/** Two folders each with a 1M-line hashes.txt (about 100 MB), the second differing in one line; made once, kept. */
function compareInputs() {
  const dir = benchDir('compare');
  const a = join(dir, 'a', 'hashes.txt');
  const b = join(dir, 'b', 'hashes.txt');
  if (!existsSync(a) || !existsSync(b) || statSync(a).size < LINES * 80) {
    say(`writing two ${LINES.toLocaleString('en-US')}-line hashes files…`);
    const lines = [];
    for (let i = 0; i < LINES; i++) {
      const sha = createHash('sha256').update(String(i)).digest('hex');
      lines.push(`${sha}  out/board-${String(i % 1000).padStart(3, '0')}/rom-${String(i).padStart(7, '0')}.bin\n`);
    }
    mkdirSync(join(dir, 'a'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    writeFileSync(a, lines.join(''));
    // One mismatch in the middle: the verdict and its report path are exercised too.
    lines[LINES / 2] = `${'0'.repeat(64)}${lines[LINES / 2].slice(64)}`;
    writeFileSync(b, lines.join(''));
  }
  return { a, b };
}

export async function compareBench({ reps = 3 } = {}) {
  const { a, b } = compareInputs();
  // Right answer first: exactly one mismatch, exit 1.
  const json = join(benchDir('compare'), 'result.json');
  const check = sh(`node ${CLI} compare --json ${a} ${b} > ${json}`, { allowFail: true, env: { ...process.env, NO_COLOR: '1' } });
  const result = JSON.parse(readFileSync(json, 'utf8'));
  rmSync(json, { force: true });
  const mismatches = result.artifacts.filter((x) => x.verdict === 'mismatch').length;
  if (check.status !== 1 || result.artifacts.length !== LINES || mismatches !== 1)
    throw new Error(`compare gave exit ${check.status}, ${result.artifacts.length} rows, ${mismatches} mismatches; expected 1, ${LINES}, 1`);
  const [o, base] = alternate(
    reps,
    () => sh(`node ${CLI} compare ${a} ${b} > /dev/null`, { allowFail: true, env: { ...process.env, NO_COLOR: '1' } }).wall,
    () => sh(`LC_ALL=C join -j 2 ${a} ${b} > /dev/null`, { allowFail: true }).wall,
  );
  return [
    makeRow({
      id: 'compare',
      name: 'compare of two 1,000,000-line hashes files (one mismatch), table to /dev/null',
      value: median(o),
      baseline: median(base),
      unit: 's',
      target: { on: 'value', op: '<', limit: 5 },
      note: `incl. process start, median of ${reps}; baseline \`LC_ALL=C join\` of the two sorted files (no verdicts)`,
      samples: { value: o, baseline: base },
    }),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await compareBench({ reps: 1 })) console.log(JSON.stringify(row, null, 2));
}
