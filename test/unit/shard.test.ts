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
