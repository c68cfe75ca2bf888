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

/** Lines a run's container prints on stderr before the board's commands: what it applied. */
export const VARIATION_MARK = 'reprorom-variation:';
export const VARIATION_END = `${VARIATION_MARK} end`;

/** The libfaketime an image may carry (Debian's path, any architecture). */
const FAKETIME_LIBS = '/usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1';

/** Whether the run preloads libfaketime: a moved clock, or one frozen by the culprit search. */
const fakesTime = (v: Variation) => v.timeShift !== 0 || v.frozenClock !== undefined;

/** The file whose mtime is the frozen clock (under the build folder: a tmpfs every run has). */
export const FROZEN_CLOCK_FILE = `${BUILD_DIR}/.reprorom-clock`;

/** libfaketime's settings, each unset again before artifacts are collected. */
const FAKETIME_VARS =
  'LD_PRELOAD FAKETIME FAKETIME_FOLLOW_FILE FAKETIME_NO_CACHE FAKETIME_DONT_FAKE_MONOTONIC';

/**
 * The clock: libfaketime preloaded for the board's commands, or a record that it could not be.
 * A moved clock runs on from now + timeShift. A frozen one (the culprit search) stands still at
 * frozenClock + timeShift in every process, while monotonic clocks keep running so timeouts and
 * sleeps still end. It follows a file's mtime (`FAKETIME=%`) rather than an absolute FAKETIME:
 * libfaketime parses an absolute time with mktime in the process's time zone when the process
 * first reads the clock, so a program that sets TZ itself (`date -u`) saw an instant moved by
 * the zone's offset, and a build stamping UTC was blamed on `timezone`. An mtime is one instant
 * in every zone. Each read lands a few microseconds before the mtime (libfaketime restarts its
 * count on every read), hence the mtime one second on: whole seconds are the frozen time.
 */
function timeLines(v: Variation): string[] {
  if (!fakesTime(v)) return [];
  const find = ['ft=', `for f in ${FAKETIME_LIBS}; do if [ -f "$f" ]; then ft=$f; break; fi; done`];
  const applied = `echo '${VARIATION_MARK} time applied' >&2`;
  const noLib = `echo '${VARIATION_MARK} time not applied: the image has no libfaketime (${FAKETIME_LIBS.split(' ')[0]})' >&2`;
  if (v.frozenClock === undefined) {
    return [
      ...find,
      `if [ -n "$ft" ]; then export LD_PRELOAD="$ft" FAKETIME='+${v.timeShift}' FAKETIME_DONT_FAKE_MONOTONIC=1; ${applied}`,
      `else ${noLib}; fi`,
    ];
  }
  const stamp = v.frozenClock + v.timeShift + 1;
  return [
    ...find,
    `if [ -z "$ft" ]; then ${noLib}`,
    `elif : > ${FROZEN_CLOCK_FILE} && touch -d @${stamp} ${FROZEN_CLOCK_FILE} 2>/dev/null; then`,
    `  export LD_PRELOAD="$ft" FAKETIME=% FAKETIME_FOLLOW_FILE=${FROZEN_CLOCK_FILE} FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1; ${applied}`,
    `else echo '${VARIATION_MARK} time not applied: the image cannot set a file time (touch -d @SECONDS)' >&2; fi`,
  ];
}

export function buildScript(board: Board, variation: Variation): string {
  const dir = variation.buildPath;
  const workdir = `${dir}/${board.workdir}`.replace(/\/\.?$/, '');
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
    ...timeLines(variation),
    // After this line the host reads no more variation records: the board's commands come next.
    `echo '${VARIATION_END}' >&2`,
    '{',
    ...board.commands,
    '} 3>&-',
    ...(fakesTime(variation) ? [`unset ${FAKETIME_VARS}`] : []),
    `cd ${quote(dir)}`,
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

/**
 * The container's command: the build script, run under `setarch` when the run changes the
 * kernel version (--uname-2.6) or turns ASLR off (-R). Each is tried first; what the image
 * or the engine refuses is recorded as not applied (with why) and the build runs without it.
 */
export function containerCommand(board: Board, variation: Variation): string[] {
  const script = buildScript(board, variation);
  const wanted: Array<{ name: string; flag: string; refused: string }> = [
    ...(variation.kernel === 'uname-2.6'
      ? [{ name: 'kernel', flag: '--uname-2.6', refused: 'setarch --uname-2.6 was refused here' }]
      : []),
    ...(!variation.aslr
      ? [
          {
            name: 'aslr',
            flag: '-R',
            refused:
              "setarch -R was refused: the engine's seccomp profile does not allow the ADDR_NO_RANDOMIZE personality",
          },
        ]
      : []),
  ];
  if (wanted.length === 0) return ['/bin/sh', '-c', script];
  const say = (line: string) => `echo ${quote(`${VARIATION_MARK} ${line}`)} >&2`;
  const wrapper = [
    'flags=',
    'if command -v setarch >/dev/null 2>&1 && arch=$(uname -m); then',
    ...wanted.map(
      (w) =>
        `  if setarch "$arch" ${w.flag} true 2>/dev/null; then flags="$flags ${w.flag}"; ${say(`${w.name} applied`)}; else ${say(`${w.name} not applied: ${w.refused}`)}; fi`,
    ),
    'else',
    ...wanted.map((w) => `  ${say(`${w.name} not applied: the image has no setarch (util-linux)`)}`),
    'fi',
    'if [ -n "$flags" ]; then exec setarch "$arch" $flags /bin/sh -c "$1"; fi',
    'exec /bin/sh -c "$1"',
    '',
  ].join('\n');
  return ['/bin/sh', '-c', wrapper, 'reprorom-build', script];
}
