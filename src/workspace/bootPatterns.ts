/**
 * Every board's `boot.expect` must compile as a linear-time (RE2) pattern, since that is how
 * the boot check matches it: a pattern that only JavaScript understands (a backreference,
 * a lookahead) is refused here, with its position, not when QEMU has already started.
 */
import type { Problem } from '../util/errors.js';
import { compileLinear } from '../util/linearRegex.js';
import { located } from './references.js';
import type { Workspace } from './types.js';

export async function bootPatternProblems(ws: Workspace): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const board of ws.boards.values()) {
    const expect = board.value.boot?.expect;
    if (expect === undefined) continue;
    const compiled = await compileLinear(expect);
    if (!compiled.ok)
      problems.push(
        located(
          board.parsed,
          ['boot', 'expect'],
          `boot.expect: expected a regular expression in RE2 syntax (no backreferences or lookaround; it is matched in linear time): ${compiled.reason}`,
        ),
      );
  }
  return problems;
}
