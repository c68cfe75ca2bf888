/**
 * The shell script a board's container runs: the board's commands in its work
 * folder under the run's umask, then a list of the files its artifact globs match,
 * so the host can copy exactly those out.
 */
import type { Board } from '../workspace/schema.js';
import type { Variation } from './variations.js';

export const SOURCE_DIR = '/build/src';
export const ARTIFACT_LIST = '/build/artifacts.list';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function buildScript(board: Board, variation: Variation): string {
  const workdir = `${SOURCE_DIR}/${board.workdir}`.replace(/\/\.?$/, '');
  const globs = board.artifacts.map((a) => a.replace(/[^A-Za-z0-9_./*?[\]{}-]/g, '\\$&'));
  return [
    'set -e',
    `umask ${variation.umask}`,
    `cd ${quote(workdir)}`,
    ...board.commands,
    `cd ${quote(SOURCE_DIR)}`,
    `: > ${ARTIFACT_LIST}`,
    // Unquoted on purpose: the shell expands the board's globs inside the container.
    ...globs.map(
      (g) =>
        `for f in ${g}; do if [ -f "$f" ] || [ -L "$f" ]; then printf '%s\\n' "$f" >> ${ARTIFACT_LIST}; fi; done`,
    ),
    '',
  ].join('\n');
}
