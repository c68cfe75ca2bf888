/**
 * The files a boot check boots are the board's own artifacts: `boot.artifact`, and with
 * `as: initrd` the kernel (`boot.kernel`) booted with it. `kernel` goes with `as: initrd` and
 * nothing else, and each must be one of the board's declared artifacts (a path or one a glob
 * covers). Pure over a loaded workspace; every problem carries its position.
 */
import type { Problem } from '../util/errors.js';
import { artifactCovers } from './inputs.js';
import { located } from './references.js';
import type { Board } from './schema.js';
import type { Entry, Workspace } from './types.js';

export function bootArtifactProblems(ws: Workspace): Problem[] {
  return [...ws.boards.values()].flatMap(oneBoard);
}

function oneBoard(entry: Entry<Board>): Problem[] {
  const boot = entry.value.boot;
  if (!boot) return [];
  const problems: Problem[] = [];
  const at = (key: 'artifact' | 'kernel' | 'as', message: string) =>
    problems.push(located(entry.parsed, ['boot', key], message));
  const declared = entry.value.artifacts;
  const notDeclared = (path: string) => !declared.some((d) => artifactCovers(d, path));
  if (notDeclared(boot.artifact))
    at(
      'artifact',
      `boot.artifact "${boot.artifact}" is not one of the board's artifacts, expected one of: ${declared.join(', ')}`,
    );
  if (boot.as === 'initrd' && boot.kernel === undefined)
    at(
      'as',
      'boot.as: initrd boots the artifact as an initrd, expected boot.kernel naming the kernel artifact booted with it',
    );
  if (boot.kernel !== undefined) {
    if (boot.as !== 'initrd')
      at(
        'kernel',
        `boot.kernel is only used with as: initrd (as is ${boot.as}), expected as: initrd or no kernel`,
      );
    else if (boot.kernel === boot.artifact)
      at('kernel', `boot.kernel is boot.artifact itself, expected the kernel artifact beside the initrd`);
    else if (notDeclared(boot.kernel))
      at(
        'kernel',
        `boot.kernel "${boot.kernel}" is not one of the board's artifacts, expected one of: ${declared.join(', ')}`,
      );
  }
  return problems;
}
