/**
 * What keeps `compare` of a million lines fast must not change a verdict: lists in the same order
 * are compared by position (no map), lists in another order by map, with equal results; a sorted
 * list is checked for repeated paths without a map; past 1,000 rows the table lists only what is
 * not reproducible. The speed itself is measured by bench/compare.js, never here.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allArtifacts, compareSets } from '../../src/compare/compare.js';
import { loadInputs } from '../../src/compare/inputs.js';
import { renderTable, TABLE_ALL_ROWS_UP_TO } from '../../src/compare/table.js';
import { parseHashesTxt } from '../../src/hashes/hashesTxt.js';
import { ConfigError } from '../../src/util/errors.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function lines(n: number, change: (i: number) => string = String): string[] {
  return Array.from(
    { length: n },
    (_, i) => `${sha(change(i))}  out/b${i % 7}/f${String(i).padStart(5, '0')}.bin`,
  );
}

async function files(a: string[], b: string[]): Promise<[string, string]> {
  const dir = await mkdtemp(join(tmpdir(), 'rr-large-'));
  temps.push(dir);
  await writeFile(join(dir, 'a.txt'), `${a.join('\n')}\n`);
  await writeFile(join(dir, 'b.txt'), `${b.join('\n')}\n`);
  return [join(dir, 'a.txt'), join(dir, 'b.txt')];
}

const verdicts = (c: ReturnType<typeof compareSets>) =>
  allArtifacts(c).map((a) =>
    [a.key, a.verdict, Object.values(a.hashes).join(','), a.disagreeing.length].join(' '),
  );

describe('compare at scale: same verdicts on every path', () => {
  it('lists in the same order (by position) and in another order (by map) give the same rows and verdicts', async () => {
    const a = lines(3000);
    const b = lines(3000, (i) => (i === 1234 || i === 2999 ? `other ${i}` : String(i)));
    b.splice(10, 1); // one artifact missing in b: only a has it (single-run)
    const ordered = compareSets(await loadInputs(await files(a, b)));
    const shuffled = compareSets(await loadInputs(await files(a, [...b].reverse())));
    expect(verdicts(shuffled)).toEqual(verdicts(ordered));
    expect(
      allArtifacts(ordered)
        .filter((x) => x.verdict === 'mismatch')
        .map((x) => x.key),
    ).toEqual(['f01234.bin', 'f02999.bin']);
    expect(
      allArtifacts(ordered)
        .filter((x) => x.verdict === 'single-run')
        .map((x) => x.key),
    ).toEqual(['f00010.bin']);
    // Equal lists: all reproducible by position.
    const same = compareSets(await loadInputs(await files(a, a)));
    expect(same.ok).toBe(true);
    expect(allArtifacts(same)).toHaveLength(3000);
  });

  it('repeated paths are refused whether the list is sorted (no map) or not', () => {
    const sorted = [`${sha('1')}  a.bin`, `${sha('2')}  b.bin`, `${sha('3')}  b.bin`].join('\n');
    expect(() => parseHashesTxt(sorted, 'h.txt')).toThrow(
      /h\.txt:3:67: duplicate path "b\.bin" \(first on line 2\)/,
    );
    const unsorted = [`${sha('1')}  c.bin`, `${sha('2')}  a.bin`, `${sha('3')}  c.bin`].join('\n');
    expect(() => parseHashesTxt(unsorted, 'h.txt')).toThrow(ConfigError);
    expect(() => parseHashesTxt(unsorted, 'h.txt')).toThrow(
      /h\.txt:3:67: duplicate path "c\.bin" \(first on line 1\)/,
    );
    expect(parseHashesTxt(`${sha('1')}  b.bin\n${sha('2')}  a.bin\n`, 'h.txt').map((l) => l.path)).toEqual([
      'b.bin',
      'a.bin',
    ]);
  });

  it(`past ${TABLE_ALL_ROWS_UP_TO} rows the table lists only the rows not reproducible, and says how many it left out`, async () => {
    const a = lines(TABLE_ALL_ROWS_UP_TO + 500);
    const b = lines(TABLE_ALL_ROWS_UP_TO + 500, (i) => (i === 700 ? 'x' : String(i)));
    const big = renderTable(compareSets(await loadInputs(await files(a, b))), (_, t) => t);
    expect(big).toHaveLength(3);
    expect(big[1]).toMatch(/^f00700\.bin\s+mismatch\s+[0-9a-f]{12}\s+[0-9a-f]{12}!$/);
    expect(big[2]).toBe(
      '(1,499 reproducible artifact(s) not listed: more than 1,000 rows; --json lists every artifact)',
    );
    const small = renderTable(
      compareSets(await loadInputs(await files(a.slice(0, 800), b.slice(0, 800)))),
      (_, t) => t,
    );
    expect(small).toHaveLength(801);
  });
});
