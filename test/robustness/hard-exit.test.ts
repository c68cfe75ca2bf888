/**
 * Signals must end the process even when a libuv thread is stuck in a system call: an
 * open() of a FIFO nobody writes never returns, and then even process.exit() hangs. The
 * interrupt handler (dist/util/interrupt.js, as the CLI uses it) is driven here around
 * exactly that: the second signal ends the process within 10 s, the third at once, by
 * the signal's own default action; temporary folders registered for it are removed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const SCRIPT = `
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
const { withInterrupts, removeOnHardExit } = await import(process.argv[2]);
const temp = mkdtempSync(join(process.argv[4], 'reprorom-ssh-'));
removeOnHardExit(temp);
// Ready once the handlers are in place; then a thread blocks in open() for ever (nobody writes to this FIFO).
await withInterrupts(() => {
  process.stderr.write('ready ' + temp + '\\n');
  return readFile(process.argv[3]);
});
`;

describe('robustness: signals end a process with a stuck thread', () => {
  let tmp = '';
  let script = '';
  let fifo = '';
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'rr-hardexit-'));
    script = join(tmp, 'stuck.mjs');
    await writeFile(script, SCRIPT);
    fifo = join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** Starts the stuck process, sends `signals` (the first once it is ready, then `gapMs` apart), times its end. */
  const stuckThen = async (signals: NodeJS.Signals[], gapMs: number) => {
    const child = execa(process.execPath, [script, join(repoRoot, 'dist/util/interrupt.js'), fifo, tmp], {
      reject: false,
      stdin: 'ignore',
      timeout: 60_000,
    });
    let err = '';
    const ready = new Promise<void>((res) =>
      child.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('ready ')) res();
      }),
    );
    await ready;
    const temp = /ready (\S+)/.exec(err)?.[1] ?? '';
    expect(existsSync(temp)).toBe(true);
    const started = Date.now();
    for (const s of signals) {
      child.kill(s);
      await new Promise((r) => setTimeout(r, gapMs));
    }
    const r = await child;
    return { r, ms: Date.now() - started, temp, stderr: String(r.stderr) };
  };

  it('three SIGTERMs with a thread stuck opening a FIFO: the process ends at once, its temporary folder removed', async () => {
    const { r, ms, temp, stderr } = await stuckThen(['SIGTERM', 'SIGTERM', 'SIGTERM'], 300);
    expect(r.timedOut, stderr).toBe(false);
    expect(ms, stderr).toBeLessThan(5_000);
    expect(r.signal ?? r.exitCode, stderr).toBe('SIGTERM');
    expect(stderr).toMatch(/SIGTERM received a third time; exiting now/);
    expect(existsSync(temp)).toBe(false);
  });

  it('two SIGINTs with a thread stuck opening a FIFO: the process ends within 10 s of the second, its temporary folder removed', async () => {
    const { r, ms, temp, stderr } = await stuckThen(['SIGINT', 'SIGINT'], 300);
    expect(r.timedOut, stderr).toBe(false);
    expect(ms, stderr).toBeLessThan(15_000);
    expect(r.signal ?? r.exitCode, stderr).toBe('SIGINT');
    expect(stderr).toMatch(
      /still removing the container and temporary files; exiting when done, within 10 s/,
    );
    expect(existsSync(temp)).toBe(false);
  });
});
