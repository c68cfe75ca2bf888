import { describe, expect, it } from 'vitest';
import { parseShard, shardBoards } from '../../src/ci/shard.js';

const boards = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

describe('sharding', () => {
  it('covers every board exactly once, by count when no times are known', () => {
    const shards = [1, 2, 3].map((index) => shardBoards(boards, { index, count: 3 }, new Map()));
    expect(shards.flat().sort()).toEqual(boards);
    expect(shards.map((s) => s.length).sort()).toEqual([2, 2, 3]);
  });
  it('balances by recorded build times', () => {
    const times = new Map([
      ['a', 100],
      ['b', 90],
      ['c', 10],
      ['d', 10],
      ['e', 10],
      ['f', 10],
      ['g', 10],
    ]);
    const [one, two] = [1, 2].map((index) => shardBoards(boards, { index, count: 2 }, times));
    const load = (s: string[]) => s.reduce((n, b) => n + (times.get(b) ?? 0), 0);
    expect([...one!, ...two!].sort()).toEqual(boards);
    expect(Math.abs(load(one!) - load(two!))).toBeLessThanOrEqual(10);
  });
  it('is stable whatever the input order', () => {
    const a = shardBoards(boards, { index: 1, count: 2 }, new Map());
    const b = shardBoards([...boards].reverse(), { index: 1, count: 2 }, new Map());
    expect(b).toEqual(a);
  });
  it('refuses malformed shards', () => {
    for (const bad of ['0/2', '3/2', '1/0', 'x', '1-2']) expect(() => parseShard(bad)).toThrow(/--shard/);
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
  });
});

describe('recorded durations', () => {
  it('come only from the latest run that built every board, never from shard runs', async () => {
    const { mkdtemp, mkdir, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { recordedDurations } = await import('../../src/ci/shard.js');
    const runs = await mkdtemp(join(tmpdir(), 'rr-dur-'));
    const write = async (run: string, board: string, ms: number) => {
      await mkdir(join(runs, run, board, '1'), { recursive: true });
      await writeFile(
        join(runs, run, board, '1', 'manifest.json'),
        JSON.stringify({ board, durationMs: ms }),
      );
    };
    await write('20260101-000000-aaaaaa', 'a', 100);
    await write('20260101-000000-aaaaaa', 'b', 50);
    await write('20260102-000000-bbbbbb', 'a', 999); // a later shard run with only board a
    expect(await recordedDurations(runs, ['a', 'b'])).toEqual(
      new Map([
        ['a', 100],
        ['b', 50],
      ]),
    );
    expect(await recordedDurations(runs, ['a', 'b', 'c'])).toEqual(new Map());
  });
});
