// Small helpers shared by the benchmarks: timing, medians, child processes with peak RSS.
import { spawnSync } from 'node:child_process';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Wall time (s) and peak RSS (MB) of a command, through GNU time. */
export function timed(cmd, args, opts = {}) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-800)}`);
  const rssKb = Number(r.stderr.trim().split('\n').pop());
  return { wall, rssMb: rssKb / 1024, stdout: r.stdout, status: r.status };
}

export function sh(script, opts = {}) {
  return timed('sh', ['-c', script], opts);
}

/** A result row: value vs baseline, ratio, and whether the target holds. */
export function row(name, value, baseline, unit, target, pass, note = '') {
  return { name, value: round(value), baseline: baseline === null ? null : round(baseline), ratio: baseline ? round(value / baseline) : null, unit, target, pass, note };
}

const round = (x) => Math.round(x * 1000) / 1000;
