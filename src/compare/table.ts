/**
 * The comparison as a person reads it: an aligned table, then one line per problem.
 * Names and labels come from input files: every line is made printable here.
 */
import { printable } from '../util/printable.js';
import type { ArtifactResult, Comparison, Verdict } from './compare.js';

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

export function renderTable(c: Comparison, paint: Painter): string[] {
  const labels = c.inputs.map((i) => i.label);
  const head = ['ARTIFACT', 'VERDICT', ...labels.map(printable)];
  const rows = c.artifacts.map((a) => [printable(a.name), a.verdict, ...labels.map((l) => cell(a, l))]);
  // A loop, not Math.max(...rows): a million rows would overflow the call stack.
  const widths = head.map((h) => h.length);
  for (const r of rows) {
    r.forEach((t, i) => {
      widths[i] = Math.max(widths[i] ?? 0, t.length);
    });
  }
  const line = (cells: string[], colour: (text: string, col: number) => string) =>
    cells
      .map((t, i) => colour(i === cells.length - 1 ? t : t.padEnd(widths[i] ?? 0), i))
      .join('  ')
      .trimEnd();
  const out = [line(head, (t) => paint('dim', t))];
  c.artifacts.forEach((a, r) => {
    out.push(
      line(rows[r] ?? [], (t, col) => {
        if (col === 1) return paint(verdictColour[a.verdict], t);
        if (col >= 2 && t.trimEnd().endsWith('!')) return paint('red', t);
        return t;
      }),
    );
  });
  return out;
}

/** One sentence per artifact that is not reproducible, with full hashes. */
export function renderProblems(c: Comparison): string[] {
  return problemLines(c).map(printable);
}

function problemLines(c: Comparison): string[] {
  const out: string[] = [];
  for (const a of c.artifacts) {
    const holders = (sha: string | undefined) => Object.keys(a.hashes).filter((l) => a.hashes[l] === sha);
    if (a.verdict === 'mismatch') {
      out.push(
        `mismatch ${a.name}: ${holders(a.majority).join(', ')} ha${holders(a.majority).length > 1 ? 've' : 's'} ${a.majority}`,
      );
      for (const l of a.disagreeing) out.push(`  disagrees: ${l} has ${a.hashes[l]}`);
      const absent = Object.keys(a.hashes).filter((l) => a.hashes[l] === null);
      if (absent.length > 0) out.push(`  missing in: ${absent.join(', ')}`);
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

export function renderSummary(c: Comparison): string {
  const count = (v: Verdict) => c.artifacts.filter((a) => a.verdict === v).length;
  if (c.unrelated.length > 0)
    return printable(
      `NOT verified: nothing in common across the inputs (${c.unrelated.join(', ')} share no board or artifact)`,
    );
  if (c.ok)
    return `reproducible: ${c.artifacts.length} artifact(s) identical across ${c.inputs.length} inputs`;
  if (c.artifacts.length === 0) return 'NOT verified: no artifacts to compare';
  return `NOT reproducible: ${count('mismatch')} mismatch, ${count('missing')} missing, ${count('single-run')} single-run, ${count('reproducible')} reproducible`;
}
