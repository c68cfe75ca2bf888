/**
 * Signs of life: a live line per running board under a counter on a terminal; heartbeat
 * lines off a terminal; one closing line with the total time.
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BuildProgress, elapsed, heartbeatSeconds } from '../../src/cli/buildProgress.js';

function fakeStream(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const s = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  let out = '';
  s.on('data', (d: Buffer) => {
    out += d.toString();
  });
  Object.assign(s, {
    isTTY: tty,
    columns: 100,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
  });
  return { stream: s, text: () => out };
}

describe('build progress', () => {
  // The clock is faked wherever time shows in the output, so the expected seconds are exact
  // however slow the machine is.
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });

  it('REPROROM_HEARTBEAT sets the interval (seconds, at least 1, at most 60); anything else is 60', () => {
    expect(heartbeatSeconds({})).toBe(60);
    expect(heartbeatSeconds({ REPROROM_HEARTBEAT: '2.5' })).toBe(2.5);
    expect(heartbeatSeconds({ REPROROM_HEARTBEAT: '0.5' })).toBe(1);
    expect(heartbeatSeconds({ REPROROM_HEARTBEAT: '0.001' })).toBe(1);
    expect(heartbeatSeconds({ REPROROM_HEARTBEAT: '600' })).toBe(60);
    expect(heartbeatSeconds({ REPROROM_HEARTBEAT: 'soon' })).toBe(60);
    expect(heartbeatSeconds({ REPROROM_HEARTBEAT: '-1' })).toBe(60);
    expect(elapsed(65_000)).toBe('1m 05s');
    expect(elapsed(3_725_000)).toBe('1h 02m');
  });

  it('off a terminal: a heartbeat per silent running build, with its last output; none once it is done', async () => {
    vi.useFakeTimers({ now: 0 });
    vi.stubEnv('REPROROM_HEARTBEAT', '10');
    const { stream, text } = fakeStream(false);
    const p = await BuildProgress.start({ plannedRuns: 2, verbose: false, stream });
    p.runState('sea', 1, 2, 'started');
    await vi.advanceTimersByTimeAsync(2_000);
    p.line('sea', 1, '  CC out/src/post.o');
    // Ticks every 5 s (half the interval): at 5 s the build has been silent for 3 s.
    await vi.advanceTimersByTimeAsync(3_000);
    expect(text()).toBe(
      '[sea] run 1/2 still running (build, 5s; last output 3s ago: CC out/src/post.o) — 0/2 runs done\n',
    );
    await vi.advanceTimersByTimeAsync(4_000);
    p.runState('sea', 1, 2, 'done');
    const during = text();
    await vi.advanceTimersByTimeAsync(20_000);
    p.stop();
    p.summary('build finished', 'reproducible: 1 artifact identical across 2 inputs');
    // One heartbeat while it ran silent (5 s), none after it was done.
    expect(during.match(/still running/g)).toHaveLength(1);
    expect(text().slice(during.length)).not.toMatch(/still running/);
    // Not streamed without --verbose.
    expect(text()).not.toMatch(/\| {2}CC/);
    expect(text().slice(during.length)).toBe(
      '[build] build finished in 29s: 1 run, 0 failed; reproducible: 1 artifact identical across 2 inputs\n',
    );
  });

  it('--verbose streams the build output', async () => {
    const { stream, text } = fakeStream(false);
    const p = await BuildProgress.start({ plannedRuns: 1, verbose: true, stream });
    p.runState('sea', 1, 1, 'started');
    p.line('sea', 1, 'CC out/src/post.o');
    p.stop();
    expect(text()).toContain('  sea#1 | CC out/src/post.o');
  });

  it('on a terminal: one live line per running board (run i/N, stage, elapsed) under a counter', async () => {
    vi.stubEnv('CI', '');
    delete process.env['CI'];
    delete process.env['NO_COLOR'];
    delete process.env['REPROROM_QUIET'];
    vi.stubEnv('TERM', 'xterm');
    vi.useFakeTimers({ now: 0 });
    const { stream, text } = fakeStream(true);
    const p = await BuildProgress.start({ plannedRuns: 4, verbose: false, stream });
    p.runState('sea', 1, 2, 'started');
    p.runState('uboot', 2, 2, 'started');
    p.runState('uboot', 2, 2, 'booting');
    p.runState('sea', 1, 2, 'done');
    // The live lines refresh every second; the spinner redraws them a frame later.
    await vi.advanceTimersByTimeAsync(3_200);
    p.stop();
    const out = text();
    expect(out).toMatch(/1\/4 runs done, 3s/);
    expect(out).toMatch(/ {2}uboot {2}run 2\/2 {2}boot {2}3s/);
    expect(out).not.toMatch(/runs done, 4s/);
    // Nothing of the heartbeat on a terminal: the live lines are the sign of life.
    expect(out).not.toMatch(/still running/);
  });
});
