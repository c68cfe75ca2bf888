/**
 * The benchmark report logic (bench/report.js): ratios, targets, pass/fail and
 * the printed tables. No timing here: the figures are made up.
 */
import { describe, expect, it } from 'vitest';
import {
  formatNumber,
  makeRow,
  markdownTable,
  median,
  meets,
  ratioOf,
  summary,
  targetText,
  textTable,
} from '../../bench/report.js';

describe('bench report', () => {
  it('takes the middle value, whatever the input order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([0.5, 0.1, 0.9, 0.3, 0.7])).toBe(0.5);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(() => median([])).toThrow(/no values/);
  });

  it('computes value ÷ baseline, and no ratio without a usable baseline', () => {
    expect(ratioOf(3, 2)).toBe(1.5);
    expect(ratioOf(3, null)).toBeNull();
    expect(ratioOf(3, 0)).toBeNull();
    expect(ratioOf(Number.NaN, 2)).toBeNull();
  });

  it('checks ratio targets against the ratio and value targets against the value', () => {
    const ratioTarget = { on: 'ratio', op: '<=', limit: 1.25 } as const;
    expect(meets(ratioTarget, 10, 1.25)).toBe(true);
    expect(meets(ratioTarget, 1, 1.2501)).toBe(false);
    const under = { on: 'value', op: '<', limit: 0.5 } as const;
    expect(meets(under, 0.5, null)).toBe(false);
    expect(meets(under, 0.499, 99)).toBe(true);
    expect(meets({ on: 'value', op: '>=', limit: 90 }, 90, null)).toBe(true);
    expect(meets({ on: 'value', op: '>', limit: 1.7 }, 1.7, null)).toBe(false);
  });

  it('fails a target it cannot check, and has no verdict without a target', () => {
    expect(meets({ on: 'ratio', op: '<=', limit: 1.5 }, 1, null)).toBe(false);
    expect(meets({ on: 'value', op: '<', limit: 1 }, Number.NaN, null)).toBe(false);
    expect(meets(null, 1, 1)).toBeNull();
  });

  it('makes rows with rounded figures, the ratio, the target text and the verdict', () => {
    const row = makeRow({
      id: 'assembly',
      name: 'image assembly',
      value: 6.123456,
      baseline: 2.5,
      unit: 's',
      target: { on: 'ratio', op: '<=', limit: 1.25 },
      note: 'writes two copies',
    });
    expect(row).toMatchObject({
      id: 'assembly',
      value: 6.1235,
      baseline: 2.5,
      ratio: 2.449,
      target: '≤ 1.25× baseline',
      pass: false,
      note: 'writes two copies',
    });
    const info = makeRow({ id: 'x', name: 'x', value: 1, unit: 's' });
    expect(info).toMatchObject({ baseline: null, ratio: null, target: '–', pass: null });
  });

  it('writes targets in the units they are about', () => {
    expect(targetText({ on: 'value', op: '<', limit: 0.5 }, 's')).toBe('< 0.5 s');
    expect(targetText({ on: 'value', op: '>=', limit: 90 }, '%')).toBe('≥ 90 %');
    expect(targetText({ on: 'value', op: '>=', limit: 1.7 }, '×')).toBe('≥ 1.7×');
    expect(targetText(null, 's')).toBe('–');
    expect(formatNumber(0.08412, 's')).toBe('0.084 s');
    expect(formatNumber(5.901, 's')).toBe('5.90 s');
    expect(formatNumber(98.148, '%')).toBe('98 %');
    expect(formatNumber(1.931, '×')).toBe('1.93×');
    expect(formatNumber(null, 's')).toBe('–');
  });

  it('summarizes passed, missed (by id) and informational rows', () => {
    const rows = [
      makeRow({ id: 'a', name: 'a', value: 1, unit: 's', target: { on: 'value', op: '<', limit: 2 } }),
      makeRow({ id: 'b', name: 'b', value: 3, unit: 's', target: { on: 'value', op: '<', limit: 2 } }),
      makeRow({ id: 'c', name: 'c', value: 3, unit: 's' }),
    ];
    expect(summary(rows)).toEqual({ passed: 1, missed: ['b'], info: 1 });
  });

  it('prints every row with its figures and verdict, in text and in Markdown', () => {
    const rows = [
      makeRow({
        id: 'hashing',
        name: 'artifact hashing',
        value: 1.44,
        baseline: 4.77,
        unit: 's',
        target: { on: 'ratio', op: '<=', limit: 1.1 },
        note: 'incl. process start',
      }),
      makeRow({
        id: 'rss',
        name: 'peak RSS | assembly',
        value: 300,
        unit: 'MB',
        target: { on: 'value', op: '<', limit: 256 },
      }),
    ];
    const text = textTable(rows);
    expect(text).toMatch(/^benchmark\s+value\s+baseline\s+ratio\s+target\s+result$/m);
    expect(text).toMatch(/^artifact hashing\s+1\.44 s\s+4\.77 s\s+0\.30\s+≤ 1\.1× baseline\s+pass$/m);
    expect(text).toMatch(/300 MB\s+–\s+–\s+< 256 MB\s+MISS/);
    expect(text).toContain('artifact hashing: incl. process start');
    const md = markdownTable(rows).split('\n');
    expect(md[0]).toBe('| benchmark | value | baseline | ratio | target | result |');
    expect(md[2]).toBe('| artifact hashing | 1.44 s | 4.77 s | 0.30 | ≤ 1.1× baseline | pass |');
    // A pipe in a name must not split the Markdown cell.
    expect(md[3]).toBe('| peak RSS \\| assembly | 300 MB | – | – | < 256 MB | MISS |');
  });
});
