/**
 * Boots a run's artifact in QEMU and watches the chosen output channel for the
 * expected text. QEMU is always stopped: when the text appears, when it exits,
 * at the time limit, or on Ctrl-C. What it printed stays in boot.log in the run
 * folder and the result goes into the run's manifest.json.
 */
import { open, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isWithin, safeJoin } from '../archive/containment.js';
import type { BootJson } from '../contracts/json.js';
import { recordBoot } from '../hashes/runManifest.js';
import { writeFileAtomic } from '../util/atomic.js';
import { EnvironmentError, UsageError } from '../util/errors.js';
import { compileLinear } from '../util/linearRegex.js';
import type { Board } from '../workspace/schema.js';
import { bootFolder, confinedCommand } from './confine.js';
import { type BootSpec, kvmUsable, qemuArgs, qemuBinary, qemuPackage } from './qemuArgs.js';
import { findOnPath, type WatchResult, watchProcess } from './watch.js';

export interface BootInput {
  boardName: string;
  board: Board;
  /** A run folder: …/runs/RUN/BOARD/N */
  runDir: string;
  signal?: AbortSignal;
}

export const BOOT_LOG = 'boot.log';
/** boot.log keeps at most this much of the console (the start, where banners are). */
const LOG_MAX = 16 * 1024 * 1024;

export async function bootRun(input: BootInput): Promise<BootJson> {
  const spec = input.board.boot;
  if (!spec) {
    throw new UsageError(
      `board ${input.boardName} declares no boot: check`,
      `add a boot: section to boards/${input.boardName}.yaml`,
    );
  }
  const log = join(input.runDir, BOOT_LOG);
  const artifacts = join(input.runDir, 'artifacts');
  if (spec.as === 'initrd' && spec.kernel === undefined) {
    throw new UsageError(
      `boot.as of board ${input.boardName} is initrd but no boot.kernel is given`,
      'run `reprorom check` and add boot.kernel',
    );
  }
  const files = await bootFiles(artifacts, spec);
  if (typeof files === 'string') {
    await writeFileAtomic(log, `reprorom boot: ${files}\n`);
    const failed = { ok: false, artifact: spec.artifact, matched: null, durationMs: 0, log, message: files };
    return finish(input.runDir, failed);
  }
  const [artifact, kernel] = files as [string, string | undefined];
  const binary = qemuBinary(spec);
  const qemu = findOnPath(binary);
  if (!qemu) {
    throw new EnvironmentError(
      `${binary} is not installed`,
      `apt-get install -y ${qemuPackage(spec)} (or run bash .ci/setup)`,
    );
  }

  const pattern = await compileLinear(spec.expect);
  if (!pattern.ok)
    throw new UsageError(
      `boot.expect of board ${input.boardName} is not a usable pattern: ${pattern.reason}`,
      'run `reprorom check` and fix boot.expect',
    );
  const kvm = kvmUsable(spec.arch);
  // QEMU may write to a -bios/-drive file: it boots read-only copies, so the run's artifacts stay as hashed.
  const folder = await bootFolder(artifact, kernel === undefined ? {} : { kernel });
  let watched: WatchResult | undefined;
  let shown: string[] = [qemu];
  try {
    const args = qemuArgs(spec, folder.image, kvm, folder.kernel);
    const confined = await confinedCommand(qemu, args, { kvm });
    shown = [confined.command, ...confined.args];
    try {
      watched = await watchProcess({
        ...confined,
        outputFile: folder.console,
        expect: pattern.regex,
        timeoutMs: spec.timeout * 1000,
        ...(input.signal ? { signal: input.signal } : {}),
      });
    } finally {
      // Written even when interrupted: the output seen so far is what the user needs.
      await writeBootLog(log, folder.console, shown, watched);
    }
  } finally {
    await folder.remove();
  }
  if (watched.outcome === 'aborted') input.signal?.throwIfAborted();
  return finish(input.runDir, {
    ok: watched.outcome === 'matched',
    artifact: spec.artifact,
    matched: watched.matched,
    durationMs: watched.durationMs,
    log,
    message: bootMessage(spec, watched, log),
  });
}

/**
 * The files QEMU boots, each a regular file inside the run's artifacts (the initrd's kernel
 * is another artifact of the same run, held to the same rule); a string says which is missing.
 */
async function bootFiles(artifacts: string, spec: BootSpec): Promise<string[] | string> {
  const wanted = [
    { path: spec.artifact, key: 'artifact' },
    ...(spec.as === 'initrd' && spec.kernel !== undefined ? [{ path: spec.kernel, key: 'kernel' }] : []),
  ];
  const files: string[] = [];
  for (const { path, key } of wanted) {
    const found = safeJoin(artifacts, path);
    const file = found ? await realFileInside(artifacts, found) : undefined;
    if (!file) {
      const what = key === 'kernel' ? 'kernel' : 'artifact';
      return `${what} ${path} is not in ${artifacts}; is boot.${key} one of the board's artifacts?`;
    }
    files.push(file);
  }
  return files;
}

/** One line saying what happened, naming the pattern and the time limit when it failed. */
export function bootMessage(spec: BootSpec, w: WatchResult, log: string): string {
  const seconds = (w.durationMs / 1000).toFixed(1);
  const last = w.lastLine ? `last output: "${w.lastLine}"` : `nothing was printed on ${spec.channel}`;
  switch (w.outcome) {
    case 'matched':
      return `booted: "${w.matched}" seen on ${spec.channel} after ${seconds} s`;
    case 'timeout':
      return `/${spec.expect}/ did not appear on ${spec.channel} within ${spec.timeout} s; QEMU was killed; ${last}; log: ${log}`;
    case 'exited': {
      const how = w.exitSignal ? `on signal ${w.exitSignal}` : `with code ${w.exitCode}`;
      const why = qemuComplaint(w.stderr);
      return `QEMU exited ${how} after ${seconds} s before /${spec.expect}/ appeared on ${spec.channel}${why ? `: ${why}` : ''}; ${last}; log: ${log}`;
    }
    case 'aborted':
      return `interrupted after ${seconds} s; QEMU was killed; log: ${log}`;
  }
}

/** The line of QEMU's stderr most likely to say why it stopped (not a CPU feature warning). */
function qemuComplaint(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.filter((l) => !/warning:/i.test(l)).pop() ?? lines.pop() ?? '';
}

async function finish(runDir: string, result: BootJson): Promise<BootJson> {
  const { log, ...recorded } = result;
  // The manifest names the log relative to itself: an absolute path would differ per machine.
  await recordBoot(runDir, { ...recorded, message: recorded.message.split(log).join(BOOT_LOG) });
  return result;
}

async function writeBootLog(
  log: string,
  output: string,
  command: string[],
  watched: WatchResult | undefined,
): Promise<void> {
  const console = await readHead(output, LOG_MAX);
  const trailer = [
    '',
    '--- reprorom boot ---',
    `command: ${command.join(' ')}`,
    watched
      ? `outcome: ${watched.outcome} after ${watched.durationMs} ms (${watched.outputBytes} bytes on the channel)`
      : 'outcome: did not finish',
    ...(watched?.stderr ? ['--- qemu stderr ---', watched.stderr.trimEnd()] : []),
    '',
  ].join('\n');
  await writeFileAtomic(log, Buffer.concat([console, Buffer.from(trailer)]));
}

async function readHead(file: string, max: number): Promise<Buffer> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return Buffer.alloc(0);
  try {
    const buf = Buffer.alloc(Math.min((await fh.stat()).size, max));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The real path of `path` if it is a regular file inside `root` once links are resolved. */
async function realFileInside(root: string, path: string): Promise<string | undefined> {
  try {
    const [real, realRoot] = await Promise.all([realpath(path), realpath(root)]);
    // The artifact itself, strictly below the run folder once links are resolved.
    if (real === realRoot || !isWithin(realRoot, real)) return undefined;
    return (await stat(real)).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}
