/**
 * What a verdict rests on: runs that agree under varied environments show a build is
 * reproducible; runs that varied nothing show only that it repeats. `build` and `release`
 * know what their runs varied and record it on each artifact, so no report can pass the
 * weaker verdict off as the stronger one.
 */
import type { ComparisonJson } from '../contracts/json.js';

/** Board name → the variations that differed between its runs (plan/variations.ts variedAcross). */
export type VariedByBoard = ReadonlyMap<string, readonly string[]>;

/** Sets `varied` on every artifact of a board in `varied`. Returns the same object, for chaining. */
export function applyVaried(c: ComparisonJson, varied: VariedByBoard): ComparisonJson {
  for (const a of c.artifacts) {
    const names = a.board ? varied.get(a.board) : undefined;
    if (names) a.varied = [...names];
  }
  return c;
}
