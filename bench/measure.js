// Running and timing child processes: wall time from this process, peak RSS
// through GNU time (`-o FILE`, so the child's own stderr stays clean).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI = join(ROOT, 'bin', 'reprorom.js');

let seq = 0;

/**
 * Run a command to completion. Returns wall seconds, peak RSS in MB (of the
 * command and the children it waited for, as the kernel reports it) and output.
 * Throws with the tail of stderr when it fails, unless `allowFail`.
 */
export function timed(cmd, args, opts = {}) {
  const rssFile = join('/tmp', `rr-bench-rss-${process.pid}-${seq++}`);
  const { allowFail, ...spawnOpts } = opts;
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', rssFile, cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    ...spawnOpts,
  });
  const wall = (performance.now() - t0) / 1000;
  let rssMb = Number.NaN;
  try {
    const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
    rssMb = Number(lines[lines.length - 1]) / 1024;
  } catch {
    // GNU time writes nothing when it cannot start the command; the status says why.
  }
  rmSync(rssFile, { force: true });
  if (r.error) throw r.error;
  if (r.status !== 0 && !allowFail) {
    throw new Error(`${cmd} ${args.join(' ').slice(0, 300)} exited ${r.status}: ${String(r.stderr).slice(-1500)}`);
  }
  return { wall, rssMb, stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** A shell script through `sh -c`, timed. */
export function sh(script, opts = {}) {
  return timed('sh', ['-c', script], opts);
}

/** The reprorom CLI (compiled), with colour and spinners off. */
export function cli(args, opts = {}) {
  const env = { ...process.env, NO_COLOR: '1', REPROROM_QUIET: '1', ...(opts.env ?? {}) };
  return timed(process.execPath, [CLI, ...args], { ...opts, env });
}

/** A node script (plain ESM under bench/), timed. */
export function node(script, args, opts = {}) {
  return timed(process.execPath, [join(ROOT, 'bench', script), ...args], opts);
}

/**
 * Run each function `reps` times, rotating the order every round (a b c, b c a,
 * c a b, …) so drift in machine load or cache state favours none of them.
 * Returns one list of results per function.
 */
export function rotate(reps, fns) {
  const out = fns.map(() => []);
  for (let i = 0; i < reps; i++) {
    for (let k = 0; k < fns.length; k++) {
      const j = (i + k) % fns.length;
      out[j].push(fns[j](i));
    }
  }
  return out;
}

/** Two functions alternately: a b, b a, a b, … */
export function alternate(reps, a, b) {
  return rotate(reps, [a, b]);
}

/** Say what is happening, on stderr (stdout is for the table or the JSON). */
export function say(text) {
  process.stderr.write(`bench: ${text}\n`);
}
