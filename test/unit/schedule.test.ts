/**
 * The order runs start in: a free slot takes the first ready task (its producers settled),
 * longest chain of consumers first, so no slot waits on a producer while a board could run.
 */
import { describe, expect, it } from 'vitest';
import { runGraph, runPool } from '../../src/runs/pool.js';
import { boardProducers, chainHeights, type RunTask, startOrder } from '../../src/runs/schedule.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

/** Tasks that log their start and end, each finishing after `ticks` ticks. */
function logged(names: string[], ticks: Record<string, number> = {}) {
  const log: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const task = (name: string) => async () => {
    log.push(`start ${name}`);
    running++;
    maxRunning = Math.max(maxRunning, running);
    for (let i = 0; i < (ticks[name] ?? 1); i++) await tick();
    running--;
    log.push(`end ${name}`);
    return name;
  };
  return { log, tasks: names.map(task), max: () => maxRunning };
}

describe('runGraph', () => {
  it('starts a task only after the tasks it comes after, and fills a free slot with the next ready one', async () => {
    // b needs a; c is independent: with two slots c must not wait behind b.
    const { log, tasks, max } = logged(['a', 'b', 'c'], { a: 3, b: 1, c: 1 });
    const results = await runGraph(
      [{ run: tasks[0]! }, { run: tasks[1]!, after: [0] }, { run: tasks[2]! }],
      2,
    );
    expect(log.slice(0, 2)).toEqual(['start a', 'start c']);
    expect(log.indexOf('start b')).toBeGreaterThan(log.indexOf('end a'));
    expect(max()).toBe(2);
    expect(results.map((r) => r.status === 'fulfilled' && r.value)).toEqual(['a', 'b', 'c']);
  });

  it('a rejected producer still releases its consumer; the failure stops tasks not yet started', async () => {
    const log: string[] = [];
    const results = await runGraph(
      [
        { run: async () => log.push('a') },
        { run: async () => Promise.reject(new Error('b failed')) },
        { run: async () => log.push('c'), after: [1] },
      ],
      1,
      false,
    );
    expect(log).toEqual(['a', 'c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const stopped = await runPool(
      [async () => Promise.reject(new Error('x')), async () => log.push('never')],
      1,
    );
    expect(stopped.map((r) => r.status)).toEqual(['rejected']);
    expect(log).not.toContain('never');
  });

  it('refuses tasks that wait on each other instead of hanging', async () => {
    await expect(
      runGraph(
        [
          { run: async () => 1, after: [1] },
          { run: async () => 2, after: [0] },
        ],
        2,
      ),
    ).rejects.toThrow(/cycle/);
  });

  it('never runs more than the limit at once', async () => {
    const { tasks, max } = logged(['a', 'b', 'c', 'd', 'e']);
    await runGraph(
      tasks.map((run) => ({ run })),
      2,
    );
    expect(max()).toBe(2);
  });
});

describe('startOrder', () => {
  const task = (board: string, producers: string[], index = 1): RunTask => ({
    board,
    index,
    producers,
    run: async () => {},
  });

  it('puts the longest chain first and keeps the plan order otherwise', () => {
    // Plan order (producers just before their first consumer): p1 m1 p2 m2 solo top.
    const plan = [
      task('p1', []),
      task('m1', ['p1']),
      task('p2', []),
      task('m2', ['p2']),
      task('solo', []),
      task('top', ['m1', 'm2']),
    ];
    expect(Object.fromEntries(chainHeights(plan))).toEqual({ p1: 2, m1: 1, p2: 2, m2: 1, solo: 0, top: 0 });
    const ordered = startOrder(plan);
    expect(ordered.map((t) => t.board)).toEqual(['p1', 'p2', 'm1', 'm2', 'solo', 'top']);
    // Each run after its producers' run of the same index, by position in the new order.
    expect(ordered.map((t) => t.after)).toEqual([[], [], [0], [1], [], [2, 3]]);
  });

  it('run i of a consumer waits for run i of its producer only; producers outside the build are ignored', () => {
    const ordered = startOrder([
      task('payload', [], 1),
      task('payload', [], 2),
      task('rom', ['payload', 'elsewhere'], 1),
      task('rom', ['payload', 'elsewhere'], 2),
    ]);
    expect(ordered.map((t) => `${t.board}#${t.index} after ${t.after.join(',')}`)).toEqual([
      'payload#1 after ',
      'payload#2 after ',
      'rom#1 after 0',
      'rom#2 after 1',
    ]);
  });

  it("names a board's producers once", () => {
    const input = (board: string, path: string) => ({ type: 'board' as const, board, artifact: 'a', path });
    expect(boardProducers({ inputs: [input('x', 'one'), input('x', 'two'), input('y', 'three')] })).toEqual([
      'x',
      'y',
    ]);
  });
});
