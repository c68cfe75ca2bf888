/**
 * The comparison as a person reads it: an aligned table, then one line per problem.
 * Names and labels come from input files: every line is made printable here.
 */
import { printable } from '../util/printable.js';
import { allArtifacts } from './compare.js';
import type { ArtifactResult, Comparison, Verdict } from './model.js';

export type Painter = (code: 'red' | 'green' | 'yellow' | 'dim', text: string) => string;

const SHORT = 12;
const verdictColour: Record<Verdict, 'red' | 'green' | 'yellow'> = {
  reproducible: 'green',
  mismatch: 'red',
  missing: 'red',
  'single-run': 'yellow',
};

function cell(a: ArtifactResult, label: string): string {
  if (!(label in a.hashes)) return '';
  const sha = a.hashes[label];
  if (sha === null || sha === undefined) return '-';
  return `${sha.slice(0, SHORT)}${a.disagreeing.includes(label) ? '!' : ''}`;
}

/** cell(a, label).length, without making the cell: widths are found before any line is built. */
function cellWidth(a: ArtifactResult, label: string): number {
  if (!(label in a.hashes)) return 0;
  const sha = a.hashes[label];
  if (sha === null || sha === undefined) return 1;
  return Math.min(sha.length, SHORT) + (a.disagreeing.includes(label) ? 1 : 0);
}

/** Up to this many artifacts, the table lists every one; past it, only those not reproducible. */
export const TABLE_ALL_ROWS_UP_TO = 1000;

export function renderTable(c: Comparison, paint: Painter): string[] {
  const labels = c.inputs.map((i) => i.label);
  const head = ['ARTIFACT', 'VERDICT', ...labels.map(printable)];
  // A million reproducible rows tell a person nothing the summary does not: list what needs a look.
  const total = c.count;
  const all = total <= TABLE_ALL_ROWS_UP_TO;
  const rows = all ? allArtifacts(c) : c.problems;
  const names = rows.map((a) => printable(a.name));
  // Loops, not Math.max(...rows): a million rows would overflow the call stack (and no row is built twice).
  const widths = head.map((h) => h.length);
  rows.forEach((a, r) => {
    widths[0] = Math.max(widths[0] ?? 0, names[r]?.length ?? 0);
    widths[1] = Math.max(widths[1] ?? 0, a.verdict.length);
    for (let i = 0; i < labels.length; i++)
      widths[i + 2] = Math.max(widths[i + 2] ?? 0, cellWidth(a, labels[i] ?? ''));
  });
  const last = head.length - 1;
  // Every cell but the last is padded to its column; the line loses trailing blanks.
  const padded = (t: string, col: number) => (col === last ? t : t.padEnd(widths[col] ?? 0));
  const out = [
    head
      .map((t, i) => paint('dim', padded(t, i)))
      .join('  ')
      .trimEnd(),
  ];
  rows.forEach((a, r) => {
    let line = `${padded(names[r] ?? '', 0)}  ${paint(verdictColour[a.verdict], padded(a.verdict, 1))}`;
    for (let i = 0; i < labels.length; i++) {
      const t = cell(a, labels[i] ?? '');
      line += `  ${t.endsWith('!') ? paint('red', padded(t, i + 2)) : padded(t, i + 2)}`;
    }
    out.push(line.trimEnd());
  });
  const hidden = total - rows.length;
  if (hidden > 0)
    out.push(
      paint(
        'dim',
        `(${hidden.toLocaleString('en-US')} reproducible artifact(s) not listed: more than ${TABLE_ALL_ROWS_UP_TO.toLocaleString('en-US')} rows; --json lists every artifact)`,
      ),
    );
  return out;
}

/** One sentence per artifact that is not reproducible, with full hashes. */
export function renderProblems(c: Comparison): string[] {
  return problemLines(c).map(printable);
}

function problemLines(c: Comparison): string[] {
  const out: string[] = [];
  // Reproducible rows say nothing here: only the others are read (a million rows are not made).
  for (const a of c.problems) {
    const holders = (sha: string | undefined) => Object.keys(a.hashes).filter((l) => a.hashes[l] === sha);
    if (a.verdict === 'mismatch') {
      out.push(
        `mismatch ${a.name}: ${holders(a.majority).join(', ')} ha${holders(a.majority).length > 1 ? 've' : 's'} ${a.majority}`,
      );
      for (const l of a.disagreeing) out.push(`  disagrees: ${l} has ${a.hashes[l]}`);
      const absent = Object.keys(a.hashes).filter((l) => a.hashes[l] === null);
      if (absent.length > 0) out.push(`  missing in: ${absent.join(', ')}`);
      out.push(...memberLines(a));
    } else if (a.verdict === 'missing') {
      out.push(`missing ${a.name}: absent in ${a.disagreeing.join(', ')} (others have ${a.majority})`);
    } else if (a.verdict === 'single-run') {
      const only = Object.keys(a.hashes).filter((l) => a.hashes[l] !== null);
      out.push(
        `single-run ${a.name}: only ${only.join(', ')} has it, so it is not verified; build it again or compare another input`,
      );
    }
  }
  return out;
}

/** Heads' cpio blocks: which files of the archive differ, each with every input's hash. */
function memberLines(a: ArtifactResult): string[] {
  if (a.members === undefined) return [];
  if (a.members.length === 0) return ['  cpio members: every listed member is identical'];
  return a.members.map(
    (m) =>
      `  member ${m.name} ${m.verdict === 'mismatch' ? 'differs' : 'is missing'}: ${Object.entries(m.hashes)
        .map(([label, sha]) => `${label} ${sha === null ? 'lacks it' : `has ${sha}`}`)
        .join(', ')}`,
  );
}
