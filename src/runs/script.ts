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

/** Lines a run's container prints on stderr when a declared artifact is refused: `KIND: NAME`. */
export const ARTIFACT_MARK = 'reprorom-artifact:';
/** The container's exit code when it refused artifacts (the marked lines say which and why). */
export const ARTIFACTS_REFUSED_EXIT = 87;

/**
 * After the commands: every path or glob the board declares is checked, then the regular
 * files they match are handed over. Linear in the number of files (100,000 matches take
 * seconds): no list is built up in a shell variable, the names stream straight into tar.
 * A match that is a link, folder, FIFO, socket or device, a name with a control character
 * (tar's name list is one name a line) and a declared path or glob that matches nothing
 * (unless it is optional) are refused: one marked line each on the log, then exit
 * ARTIFACTS_REFUSED_EXIT, and the host names them. Links are refused rather than followed
 * or carried: what a link points to may differ between machines and is not its bytes.
 * Two globs matching one file send it twice; the host keeps one copy (see artifactPolicy).
 */
export function collectLines(board: Pick<Board, 'artifacts' | 'optionalArtifacts'>): string[] {
  const word = (g: string) => g.replace(/[^A-Za-z0-9_./*?[\]{}-]/g, '\\$&');
  const declared = [
    ...board.artifacts.map((g) => ({ g, optional: 0 })),
    ...board.optionalArtifacts.map((g) => ({ g, optional: 1 })),
  ];
  return [
    // A name as the log shows it: control characters (a newline would split the line) as "?".
    `shown() { s=$1; o=; while [ -n "$s" ]; do c=\${s%"\${s#?}"}; s=\${s#?}; case $c in [[:cntrl:]]) o="$o?" ;; *) o="$o$c" ;; esac; done; printf %s "$o"; }`,
    `say() { printf '${ARTIFACT_MARK} %s: %s\\n' "$1" "$(shown "$2")" >&2; bad=1; }`,
    // check OPTIONAL GLOB MATCH...: an unmatched glob stays as written, so MATCH = GLOB and absent.
    'check() { o=$1; g=$2; shift 2; for f do',
    '  if [ -L "$f" ]; then say "symbolic link" "$f"',
    '  elif [ -f "$f" ]; then case $f in *[[:cntrl:]]*) say "control character" "$f" ;; esac',
    '  elif [ -d "$f" ]; then say folder "$f"',
    '  elif [ -p "$f" ]; then say FIFO "$f"',
    '  elif [ -S "$f" ]; then say socket "$f"',
    '  elif [ -b "$f" ]; then say "block device" "$f"',
    '  elif [ -c "$f" ]; then say "character device" "$f"',
    '  elif [ -e "$f" ]; then say "special file" "$f"',
    '  elif [ "$o" = 0 ]; then say missing "$g"; fi',
    'done; }',
    // Each regular file as ./NAME, so no name can read as a tar option.
    `emit() { shift 2; for f do if [ -f "$f" ] && [ ! -L "$f" ]; then printf './%s\\n' "$f"; fi; done; }`,
    'bad=0',
    // Unquoted on purpose: the shell expands the board's globs inside the container.
    ...declared.map(({ g, optional }) => `check ${optional} ${quote(g)} ${word(g)}`),
    `if [ "$bad" = 1 ]; then exit ${ARTIFACTS_REFUSED_EXIT}; fi`,
    `names() { ${declared.map(({ g, optional }) => `emit ${optional} ${quote(g)} ${word(g)};`).join(' ')} }`,
    'if [ "$mode" = list ]; then names >&3',
    // --no-unquote: a name is taken as written (a backslash in it is no escape). No name: an empty archive.
    'else names | tar -c -b 20 -f - --hard-dereference --no-unquote -T - >&3; fi',
  ];
}

export function buildScript(board: Board, variation: Variation): string {
  const dir = variation.buildPath;
  const workdir = `${dir}/${board.workdir}`.replace(/\/\.?$/, '');
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
    ...collectLines(board),
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
