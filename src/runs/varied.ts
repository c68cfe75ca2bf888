/** What the successful runs of each board of a build really varied (see plan/variations.ts variedAcross). */
import { type VariationName, variedAcross } from '../plan/variations.js';
import type { BuildResult } from './execute.js';

export function variedByBoard(result: Pick<BuildResult, 'boards'>): Map<string, VariationName[]> {
  return new Map(
    result.boards.map((b) => [
      b.board,
      variedAcross(
        b.runs
          .filter((r) => r.ok)
          .map((r) => ({ variation: r.variation, ...(r.notApplied ? { notApplied: r.notApplied } : {}) })),
      ),
    ]),
  );
}
