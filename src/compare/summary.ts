/**
 * The one summary line of a comparison. `compare`, `build`, `release`, `verify` and the
 * expected-mismatch path all print this sentence and no other, so a person (or a grep in CI)
 * reads the same words whichever command ran.
 */
import type { ComparisonJson } from '../contracts/json.js';
import { printable } from '../util/printable.js';
import type { Comparison, Verdict } from './model.js';

export interface VerdictCounts {
  /** Every compared artifact. */
  total: number;
  reproducible: number;
  /** Mismatches of boards the workspace declares `expectMismatch` (0 unless asked for). */
  expected: number;
  mismatch: number;
  missing: number;
  singleRun: number;
  /** How many inputs were compared. */
  inputs: number;
  /** Inputs that share nothing with any other input. */
  unrelated: readonly string[];
  /** Reproducible artifacts whose runs varied nothing: a weaker claim, always named. */
  unvaried?: number;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function summaryLine(c: VerdictCounts): string {
  if (c.unrelated.length > 0)
    return printable(
      `NOT verified: nothing in common across the inputs (${c.unrelated.join(', ')} share no board or artifact)`,
    );
  if (c.total === 0) return 'NOT verified: no artifacts to compare';
  const problems = c.mismatch + c.missing + c.singleRun;
  const unvaried = c.unvaried ?? 0;
  const allUnvaried = unvaried > 0 && unvaried === c.reproducible;
  const weak = allUnvaried ? ' (nothing varied)' : '';
  if (problems === 0 && c.expected === 0)
    return `reproducible${weak}: ${plural(c.total, 'artifact')} identical across ${c.inputs} inputs${unvaried > 0 && !allUnvaried ? ` (${unvaried} with nothing varied)` : ''}`;
  // The reproducible count always, then only the kinds that occur: zeros say nothing.
  const parts = [
    `${c.reproducible} reproducible${unvaried > 0 && !allUnvaried ? ` (${unvaried} with nothing varied)` : ''}`,
  ];
  if (c.expected > 0) parts.push(`${c.expected} expected mismatch`);
  if (c.mismatch > 0) parts.push(`${c.mismatch} mismatch`);
  if (c.missing > 0) parts.push(`${c.missing} missing`);
  if (c.singleRun > 0) parts.push(`${c.singleRun} single-run`);
  if (problems > 0) return `NOT reproducible: ${parts.join(', ')}`;
  return `reproducible except as expected${weak}: ${parts.join(', ')} (${plural(c.total, 'artifact')})`;
}

/**
 * The summary line of a comparison, from the model (`compare`, no row made to count them) or
 * from its JSON (`build`, `release`, `verify`, `--allow-expected`: declared expected mismatches
 * counted apart, runs that varied nothing named).
 */
export function verdictSummary(c: Comparison | ComparisonJson | null): string {
  if (!c) return 'NOT verified: no run succeeded';
  return summaryLine('rows' in c ? modelCounts(c) : jsonCounts(c));
}

function modelCounts(c: Comparison): VerdictCounts {
  const count = (v: Verdict) => {
    let n = 0;
    for (const a of c.problems) if (a.verdict === v) n++;
    return n;
  };
  return {
    total: c.count,
    reproducible: c.count - c.problems.length,
    expected: 0,
    mismatch: count('mismatch'),
    missing: count('missing'),
    singleRun: count('single-run'),
    inputs: c.inputs.length,
    unrelated: c.unrelated,
  };
}

function jsonCounts(c: ComparisonJson): VerdictCounts {
  const count = (pred: (a: ComparisonJson['artifacts'][number]) => boolean) =>
    c.artifacts.filter(pred).length;
  const unexpected = (v: string) => count((a) => a.verdict === v && a.expectedMismatch === undefined);
  return {
    total: c.artifacts.length,
    reproducible: count((a) => a.verdict === 'reproducible'),
    expected: count((a) => a.verdict !== 'reproducible' && a.expectedMismatch !== undefined),
    mismatch: unexpected('mismatch'),
    missing: unexpected('missing'),
    singleRun: unexpected('single-run'),
    inputs: c.inputs.length,
    unrelated: c.unrelated,
    // Agreement of runs that varied nothing is the weaker claim: the line says so.
    unvaried: count((a) => a.verdict === 'reproducible' && a.varied?.length === 0),
  };
}
