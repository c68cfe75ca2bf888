// The pure part of the benchmarks: ratios, targets, pass/fail, and the printed
// table. No timing here, so test/unit/bench-report.test.ts can check it exactly.

/** The middle value (the upper one of the two middles for an even count). */
export function median(xs) {
  if (xs.length === 0) throw new Error('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** value ÷ baseline, or null when there is no (usable) baseline. */
export function ratioOf(value, baseline) {
  if (baseline === null || baseline === undefined || !(baseline > 0) || !Number.isFinite(value)) return null;
  return value / baseline;
}

const OPS = {
  '<': (x, l) => x < l,
  '<=': (x, l) => x <= l,
  '>': (x, l) => x > l,
  '>=': (x, l) => x >= l,
};

const OP_TEXT = { '<': '<', '<=': '≤', '>': '>', '>=': '≥' };

/**
 * Whether a target holds. A target applies to the value itself (`on: 'value'`)
 * or to value ÷ baseline (`on: 'ratio'`). No target: null (an informational row).
 * A target that needs a number we do not have (NaN, no baseline) does not hold.
 */
export function meets(target, value, ratio) {
  if (!target) return null;
  const op = OPS[target.op];
  if (!op) throw new Error(`unknown target operator ${target.op}`);
  const x = target.on === 'ratio' ? ratio : value;
  if (x === null || x === undefined || !Number.isFinite(x)) return false;
  return op(x, target.limit);
}

/** How a target reads in the table: `≤ 1.25× baseline`, `< 0.5 s`, `≥ 90 %`. */
export function targetText(target, unit) {
  if (!target) return '–';
  const op = OP_TEXT[target.op];
  if (target.on === 'ratio') return `${op} ${target.limit}× baseline`;
  return `${op} ${target.limit}${unit === '×' ? '×' : unit ? ` ${unit}` : ''}`;
}

/** Significant figures suited to each unit. */
export function formatNumber(x, unit) {
  if (x === null || x === undefined) return '–';
  if (!Number.isFinite(x)) return String(x);
  const digits = unit === 's' ? (x < 1 ? 3 : x < 10 ? 2 : 1) : unit === '%' || unit === 'MB' ? 0 : 2;
  const n = x.toFixed(digits);
  return unit === '×' ? `${n}×` : unit ? `${n} ${unit}` : n;
}

const round = (x, places = 4) => (x === null || !Number.isFinite(x) ? x : Number(x.toFixed(places)));

/**
 * One result: the measured value, the baseline measured in the same run (or
 * null), their ratio, the target and whether it holds (null: no target).
 */
export function makeRow({ id, name, value, baseline = null, unit, target = null, note = '', samples }) {
  const ratio = ratioOf(value, baseline);
  return {
    id,
    name,
    value: round(value),
    baseline: baseline === null ? null : round(baseline),
    ratio: ratio === null ? null : round(ratio, 3),
    unit,
    target: targetText(target, unit),
    targetSpec: target,
    pass: meets(target, value, ratio),
    note,
    ...(samples ? { samples: { value: samples.value?.map((x) => round(x)), baseline: samples.baseline?.map((x) => round(x)) } } : {}),
  };
}

export function verdict(row) {
  return row.pass === null ? 'info' : row.pass ? 'pass' : 'MISS';
}

/** Counts of passed, missed and informational rows. */
export function summary(rows) {
  return {
    passed: rows.filter((r) => r.pass === true).length,
    missed: rows.filter((r) => r.pass === false).map((r) => r.id),
    info: rows.filter((r) => r.pass === null).length,
  };
}

function cells(r) {
  return [
    r.name,
    formatNumber(r.value, r.unit),
    formatNumber(r.baseline, r.unit),
    r.ratio === null ? '–' : r.ratio.toFixed(2),
    r.target,
    verdict(r),
  ];
}

const HEAD = ['benchmark', 'value', 'baseline', 'ratio', 'target', 'result'];

/** A plain-text table for the terminal, with notes under it. */
export function textTable(rows) {
  const body = rows.map(cells);
  const widths = HEAD.map((h, i) => Math.max(h.length, ...body.map((c) => c[i].length)));
  const line = (c) => c.map((x, i) => (i === 0 || i >= 4 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ').trimEnd();
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.name}: ${r.note}`);
  return [line(HEAD), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), '', 'notes:', ...notes].join('\n');
}

/** The same table in Markdown, for the README. */
export function markdownTable(rows) {
  const esc = (s) => s.replace(/\|/g, '\\|');
  return [
    `| ${HEAD.join(' | ')} |`,
    `| ${HEAD.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${cells(r).map(esc).join(' | ')} |`),
  ].join('\n');
}
