/**
 * The verdict table a person reads: one row per artifact with its verdict, how many runs
 * agree, the short hash(es) and the cause (culprit or declared reason). No column per board ×
 * run: the full hashes per run belong to `--json` and the HTML report.
 */

import type { BuildReportJson, ComparisonJson, DiffReportJson } from '../contracts/json.js';
import { printable } from '../util/printable.js';
import { artifactVerdicts, culpritText, NOTHING_VARIED } from './verdicts.js';

export type Colour = 'red' | 'green' | 'yellow' | 'dim';
export type Painter = (code: Colour, text: string) => string;

const SHORT = 12;
/** Distinct hashes shown in a row; the rest are counted. */
const MAX_HASHES = 3;

export interface VerdictRow {
  artifact: string;
  verdict: string;
  colour: Colour;
  /** `2/2`: inputs holding the majority hash out of the inputs that should hold it. */
  agree: string;
  hashes: string;
  cause: string;
}

/** `a date differs: "Wed Dec  2 16:23:05 UTC 2026" vs "Thu Jan  4 21:23:05 UTC 2028"`, from a diff report. */
export function stampText(report: DiffReportJson | undefined): string | undefined {
  const a = report?.stamps?.a[0];
  const b = report?.stamps?.b[0];
  if (a === undefined && b === undefined) return undefined;
  const show = (s: string | undefined) => (s === undefined ? '(none)' : JSON.stringify(s));
  return `a date differs: ${show(a)} vs ${show(b)}`;
}

export function verdictRows(comparison: ComparisonJson | null, build?: BuildReportJson): VerdictRow[] {
  return artifactVerdicts(comparison).map((v, i) => {
    const name = comparison?.artifacts[i]?.name;
    const stamp = stampText(comparison?.reports.find((r) => r.artifact === name));
    const all = Object.values(v.hashes);
    const counts = new Map<string, number>();
    for (const h of all) if (h) counts.set(h, (counts.get(h) ?? 0) + 1);
    // The majority first, then the others by how many hold them.
    const distinct = [...counts].sort((a, b) => b[1] - a[1]).map(([h]) => h.slice(0, SHORT));
    const missing = all.filter((h) => h === null).length;
    const shown = distinct.slice(0, MAX_HASHES);
    const hashes = [
      shown.join(' vs '),
      distinct.length > MAX_HASHES ? `+${distinct.length - MAX_HASHES} more` : '',
      missing > 0 ? `(missing in ${missing})` : '',
    ]
      .filter(Boolean)
      .join(' ');
    const best = Math.max(0, ...counts.values());
    const expected = v.expected !== undefined;
    const culprit = culpritText(build, v);
    return {
      artifact: printable(v.board ? `${v.board}/${v.artifact}` : v.artifact),
      verdict: expected ? 'expected mismatch' : v.verdict,
      colour: v.ok
        ? v.verdict === NOTHING_VARIED
          ? 'yellow'
          : 'green'
        : expected || v.verdict === 'single-run'
          ? 'yellow'
          : 'red',
      agree: `${best}/${all.length}`,
      hashes,
      cause: printable([expected ? v.expected : undefined, culprit, stamp].filter(Boolean).join('; ')),
    };
  });
}

const HEAD = ['ARTIFACT', 'VERDICT', 'AGREE', 'HASH', 'CAUSE'] as const;

export function renderVerdictTable(rows: readonly VerdictRow[], paint: Painter): string[] {
  const cells = (r: VerdictRow) => [r.artifact, r.verdict, r.agree, r.hashes, r.cause];
  const widths = HEAD.map((h) => h.length);
  for (const r of rows) {
    cells(r).forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  // A column nobody filled (no cause anywhere) is left out.
  const used = HEAD.map((_, i) => i < 4 || rows.some((r) => cells(r)[i] !== ''));
  const line = (texts: string[], colour?: Colour) =>
    texts
      .map((t, i) => {
        if (!used[i]) return undefined;
        const padded = t.padEnd(widths[i] ?? 0);
        return i === 1 && colour ? paint(colour, padded) : padded;
      })
      .filter((t): t is string => t !== undefined)
      .join('  ')
      .trimEnd();
  return [paint('dim', line([...HEAD])), ...rows.map((r) => line(cells(r), r.colour))];
}

/** The one summary line (compare/summary.ts), declared expected mismatches counted apart. */
export { verdictSummary } from '../compare/summary.js';
