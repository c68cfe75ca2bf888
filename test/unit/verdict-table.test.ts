/**
 * The verdict table people read (one row per artifact: verdict, agreement, short hashes,
 * cause) and known-unreproducible boards (expectMismatch) across text, JUnit and GitHub.
 */
import { describe, expect, it } from 'vitest';
import type { BuildReportJson, ComparisonJson } from '../../src/contracts/json.js';
import { applyExpected, expectedLines } from '../../src/report/expected.js';
import { githubAnnotations, githubSummary } from '../../src/report/github.js';
import { junitXml } from '../../src/report/junit.js';
import { renderVerdictTable, verdictRows, verdictSummary } from '../../src/report/verdictTable.js';

const h = (c: string) => c.repeat(64);
const noPaint = (_c: string, t: string) => t;

/** A build of `boards` boards × `runs` runs, as `build` compares its own run folder. */
function comparison(
  spec: Record<string, string[]>,
  format: 'manifest' | 'hashes.txt' = 'manifest',
): ComparisonJson {
  const inputs: ComparisonJson['inputs'] = [];
  const artifacts: ComparisonJson['artifacts'] = [];
  for (const [board, hashes] of Object.entries(spec)) {
    const labels = hashes.map((_, i) => `20261202-130000-000001/${board}#${i + 1}`);
    for (const [i, label] of labels.entries())
      inputs.push({
        id: label,
        label,
        source: `/runs/${label}`,
        format,
        board,
        run: { id: '20261202-130000-000001', index: i + 1, machine: null },
      });
    const counts = new Map<string, number>();
    for (const x of hashes) counts.set(x, (counts.get(x) ?? 0) + 1);
    const majority = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const same = hashes.every((x) => x === hashes[0]);
    artifacts.push({
      name: `${board}/bios.bin`,
      key: 'bios.bin',
      board,
      verdict: same ? 'reproducible' : 'mismatch',
      hashes: Object.fromEntries(labels.map((l, i) => [l, hashes[i]!])),
      disagreeing: labels.filter((_, i) => hashes[i] !== majority),
      majority,
    });
  }
  const ok = artifacts.every((a) => a.verdict === 'reproducible');
  return { ok, inputs, artifacts, notes: [], unrelated: [], reports: [] };
}

const culpritBuild = {
  boards: [],
  culprits: {
    runDirs: [],
    extraRuns: 1,
    artifacts: [
      { board: 'naive', artifact: 'artifacts/bios.bin', verdict: 'nondeterministic', culprits: [] },
    ],
  },
} as unknown as BuildReportJson;

describe('verdict table', () => {
  it('one row per artifact, no column per board × run: the width does not grow with runs', () => {
    const few = comparison({ sea: [h('a'), h('a')], naive: [h('b'), h('c')] });
    const many = comparison({
      sea: Array.from({ length: 16 }, () => h('a')),
      naive: Array.from({ length: 16 }, (_, i) => (i % 2 ? h('b') : h('c'))),
    });
    const a = renderVerdictTable(verdictRows(few), noPaint);
    const b = renderVerdictTable(verdictRows(many), noPaint);
    expect(a).toHaveLength(3);
    expect(b).toHaveLength(3);
    expect(Math.max(...b.map((l) => l.length))).toBeLessThan(100);
    expect(b[0]).toMatch(/^ARTIFACT\s+VERDICT\s+AGREE\s+HASH$/);
    expect(b.join('\n')).not.toContain('#1');
    expect(b[1]).toMatch(/^sea\/bios\.bin\s+reproducible\s+16\/16\s+aaaaaaaaaaaa$/);
    expect(b[2]).toMatch(
      /^naive\/bios\.bin\s+mismatch\s+8\/16\s+(bbbbbbbbbbbb vs cccccccccccc|cccccccccccc vs bbbbbbbbbbbb)$/,
    );
  });

  it('names the culprit in its own column, and counts what it cannot show', () => {
    const c = comparison({ naive: [h('b'), h('c'), h('d'), h('e'), h('b')] });
    const rows = verdictRows(c, culpritBuild);
    expect(rows[0]).toMatchObject({
      agree: '2/5',
      hashes: 'bbbbbbbbbbbb vs cccccccccccc vs dddddddddddd +1 more',
      cause: 'differs even in the reference environment with the clock frozen (nondeterministic)',
    });
    expect(renderVerdictTable(rows, noPaint)[0]).toMatch(/CAUSE$/);
  });

  it('names a build date its diff report found, next to the culprit (or alone, with no culprit search)', () => {
    const c = comparison({ naive: [h('b'), h('c')] });
    c.reports.push({
      artifact: 'naive/bios.bin',
      a: c.inputs[0]!.id,
      b: c.inputs[1]!.id,
      tool: 'builtin',
      text: '/runs/diff/naive_bios.bin.txt',
      html: null,
      note: null,
      stamps: { a: ['Wed Dec  2 16:23:05 UTC 2026'], b: ['Thu Jan  4 21:23:05 UTC 2028'] },
    });
    const date = 'a date differs: "Wed Dec  2 16:23:05 UTC 2026" vs "Thu Jan  4 21:23:05 UTC 2028"';
    expect(verdictRows(c)[0]?.cause).toBe(date);
    expect(verdictRows(c, culpritBuild)[0]?.cause).toBe(
      `differs even in the reference environment with the clock frozen (nondeterministic); ${date}`,
    );
    expect(renderVerdictTable(verdictRows(c), noPaint)[1]).toMatch(
      /mismatch .*a date differs: "Wed Dec {2}2 16:23:05 UTC 2026"/,
    );
  });

  it('summary: reproducible, or NOT reproducible with counts', () => {
    expect(verdictSummary(comparison({ sea: [h('a'), h('a')] }))).toBe(
      'reproducible: 1 artifact identical across 2 inputs',
    );
    expect(verdictSummary(comparison({ sea: [h('a'), h('a')], x: [h('a'), h('b')] }))).toBe(
      'NOT reproducible: 1 reproducible, 1 mismatch',
    );
  });
});

describe('expected mismatches (expectMismatch)', () => {
  const reason = 'stamps the build time';

  it('between run folders: the mismatch is expected, with its reason; the rest still counts', () => {
    const c = applyExpected(
      comparison({ sea: [h('a'), h('a')], naive: [h('b'), h('c')] }),
      new Map([['naive', reason]]),
    );
    expect(c.ok).toBe(false);
    expect(c.okExceptExpected).toBe(true);
    expect(c.artifacts.find((a) => a.board === 'naive')?.expectedMismatch).toBe(reason);
    expect(c.newlyReproducible).toEqual([]);
    const rows = verdictRows(c, culpritBuild);
    expect(rows.find((r) => r.artifact === 'naive/bios.bin')).toMatchObject({
      verdict: 'expected mismatch',
      colour: 'yellow',
      cause: `${reason}; differs even in the reference environment with the clock frozen (nondeterministic)`,
    });
    expect(verdictSummary(c)).toBe(
      'reproducible except as expected: 1 reproducible, 1 expected mismatch (2 artifacts)',
    );
    expect(expectedLines(c)).toEqual([
      `expected mismatch: naive is declared not reproducible yet (${reason})`,
    ]);
  });

  it('an unexpected mismatch still fails next to an expected one', () => {
    const c = applyExpected(
      comparison({ sea: [h('a'), h('d')], naive: [h('b'), h('c')] }),
      new Map([['naive', reason]]),
    );
    expect(c.okExceptExpected).toBe(false);
    expect(verdictSummary(c)).toBe('NOT reproducible: 0 reproducible, 1 expected mismatch, 1 mismatch');
  });

  it('a declared board that reproduces is news', () => {
    const c = applyExpected(comparison({ naive: [h('b'), h('b')] }), new Map([['naive', reason]]));
    expect(c.okExceptExpected).toBe(true);
    expect(c.newlyReproducible).toEqual([{ board: 'naive', reason }]);
    expect(expectedLines(c)[0]).toMatch(/^news: naive is now reproducible, .*remove expectMismatch/);
  });

  it('published hashes (a hashes.txt) never excuse a mismatch', () => {
    const c = applyExpected(
      comparison({ naive: [h('b'), h('c')] }, 'hashes.txt'),
      new Map([['naive', reason]]),
    );
    expect(c.artifacts[0]?.expectedMismatch).toBeUndefined();
    expect(c.okExceptExpected).toBe(false);
  });

  it('JUnit skips an expected mismatch with its reason; GitHub gives a notice, not an error', () => {
    const c = applyExpected(
      comparison({ sea: [h('a'), h('d')], naive: [h('b'), h('c')] }),
      new Map([['naive', reason]]),
    );
    const xml = junitXml(c, culpritBuild);
    expect(xml).toMatch(
      /<testcase classname="naive" name="bios\.bin">\s*<skipped message="expected mismatch: stamps the build time; differs even/,
    );
    expect(xml).toMatch(/<testcase classname="sea" name="bios\.bin">\s*<failure type="mismatch"/);
    const notes = githubAnnotations(c, culpritBuild);
    expect(notes.filter((l) => l.startsWith('::notice'))).toEqual([
      expect.stringMatching(
        /^::notice title=reprorom expected mismatch: naive\/bios\.bin::declared not reproducible yet: stamps the build time/,
      ),
    ]);
    expect(notes.filter((l) => l.startsWith('::error'))).toHaveLength(1);
    expect(githubSummary(c, culpritBuild)).toMatch(
      /\| naive \| bios\.bin \| ⚠️ expected mismatch \|.*\| stamps the build time; differs even/,
    );
  });
});
