/** A board declared not reproducible (`expectMismatch`) is never released nor verified. */
import type { PlannedBoard } from '../plan/plan.js';
import { ConfigError, type Problem } from '../util/errors.js';
import { located } from '../workspace/references.js';

export function expectedMismatchProblem(
  planned: PlannedBoard,
  what: 'release' | 'verify',
): Problem | undefined {
  const reason = planned.board.expectMismatch;
  if (reason === undefined) return undefined;
  return located(
    planned.entry.parsed,
    ['expectMismatch'],
    `board ${planned.name} is declared not reproducible (expectMismatch: ${reason}), so ${what} refuses it`,
  );
}

/** Throws one ConfigError (exit 2) naming every such board at its `expectMismatch` line. */
export function refuseExpectedMismatch(boards: readonly PlannedBoard[], what: 'release' | 'verify'): void {
  const problems = boards.flatMap((b) => expectedMismatchProblem(b, what) ?? []);
  if (problems.length > 0)
    throw new ConfigError(
      problems,
      'make the board reproducible and remove expectMismatch from its file, or leave it out',
    );
}
