/**
 * The shell script a board's container runs. It first moves the source in (see
 * OutputChannel for the two ways), runs the board's commands in its work folder under
 * the run's umask, then hands over the files the artifact globs match. The container's
 * stdout is that channel to the host; the commands' own output (stdout and stderr) all
 * goes to stderr, the build log, and they never see the channel's descriptor, so nothing
 * they print can be taken for an artifact. Besides the optional GNU tar, only shell
 * builtins are used: an image needs nothing but /bin/sh.
 */

import type { Variation } from '../plan/variations.js';
import type { Board } from '../workspace/schema.js';

export const BUILD_DIR = '/build';
export const SOURCE_DIR = `${BUILD_DIR}/src`;
/** Records of GNU tar's default size: the host pads its archive to them, so the container's
 *  tar stops at the archive's end without waiting for stdin to close. */
export const TAR_RECORD = 10240;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function buildScript(board: Board, variation: Variation): string {
  const workdir = `${SOURCE_DIR}/${board.workdir}`.replace(/\/\.?$/, '');
  const globs = board.artifacts.map((a) => a.replace(/[^A-Za-z0-9_./*?[\]{}-]/g, '\\$&'));
  return [
    'set -e',
    `umask ${variation.umask}`,
    // fd 3: the channel to the host (the container's stdout); everything else: the log.
    'exec 3>&1 1>&2',
    'case "$(tar --version 2>/dev/null)" in',
    `'tar (GNU tar) '*) mode=tar; printf 'reprorom:tar\\n' >&3; tar -x -p -B -b 20 -f - -C ${BUILD_DIR} ;;`,
    `*) mode=list; printf 'reprorom:list\\n' >&3; IFS= read -r go; [ "$go" = go ] ;;`,
    'esac',
    'exec </dev/null',
    `cd ${quote(workdir)}`,
    '{',
    ...board.commands,
    '} 3>&-',
    `cd ${quote(SOURCE_DIR)}`,
    // Each matching file or symlink once, as ./NAME so no name can read as a tar option.
    'kept=',
    `keep() { n=\${1#./}; if [ -f "$n" ] || [ -L "$n" ]; then case "\n$kept" in *"\n./$n\n"*) ;; *) kept="$kept./$n\n" ;; esac; fi; }`,
    // Unquoted on purpose: the shell expands the board's globs inside the container.
    ...globs.map((g) => `for f in ${g}; do keep "$f"; done`),
    'if [ "$mode" = list ]; then printf %s "$kept" >&3',
    `elif [ -n "$kept" ]; then printf %s "$kept" | tar -c -b 20 -f - --hard-dereference -T - >&3; fi`,
    '',
  ].join('\n');
}
