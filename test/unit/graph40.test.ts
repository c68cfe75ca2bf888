/**
 * A Heads-sized graph (issue 29 item 3): 40 boards, producers shared and 3 levels deep
 * (bench/graph40.js, also the bench's workspace). It checks, plans and shards; the
 * generated workflows spread it over N jobs so that no job waits on a producer another
 * job builds: a producers job fills the store, and each shard builds what its boards
 * need or restores it. No timing here: the bench measures that.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
// @ts-expect-error: a plain ESM module of the bench, without types
import { graph40, writeGraph40 } from '../../bench/graph40.js';
import { parseShard, shardBoards } from '../../src/ci/shard.js';
import { planBuild } from '../../src/plan/plan.js';
import { loadValidWorkspace, type Workspace } from '../../src/workspace/load.js';
import { runCli } from '../helpers/cli.js';

const graph = (graph40 as () => Record<string, string[]>)();
const names = Object.keys(graph).sort();
const producers = [...new Set(Object.values(graph).flat())].sort();
const COMMIT = 'c0ffee0000000000000000000000000000000001';
let root: string;
let ws: Workspace;

/** Every board a board needs, its producers' producers included. */
const closure = (board: string): string[] => (graph[board] ?? []).flatMap((p) => [p, ...closure(p)]);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rr-graph40-'));
  writeGraph40(root);
  ws = await loadValidWorkspace(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a 40-board graph with shared producers 3 levels deep', () => {
  it('is what it claims: 40 boards, 12 shared producers, chains 3 producers deep', () => {
    expect(names).toHaveLength(40);
    expect(producers).toHaveLength(12);
    // Shared: every producer feeds more than one board.
    for (const p of producers) expect(names.filter((b) => graph[b]?.includes(p)).length).toBeGreaterThan(1);
    expect(Math.max(...names.map((b) => new Set(closure(b)).size))).toBeGreaterThanOrEqual(3);
    expect(closure('rom01')).toEqual(expect.arrayContaining(['linux1', 'cb1', 'tc1']));
  });

  it('reprorom check accepts it', async () => {
    const r = await runCli(['check', '-w', root]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('40 boards');
  });

  it('plans every board once, each after every board it takes an input from', () => {
    const plan = planBuild(ws, { boards: [], all: true, runs: 2, jobs: 2, cores: 2 });
    const order = plan.boards.map((b) => b.name);
    expect([...order].sort()).toEqual(names);
    for (const b of order)
      for (const p of graph[b] ?? []) expect(order.indexOf(p)).toBeLessThan(order.indexOf(b));
  });

  it.each([2, 3, 4, 7])(
    '%i shards: every board in one shard, each shard planning every producer its boards need',
    (n) => {
      const seen: string[] = [];
      for (let i = 1; i <= n; i++) {
        const mine = shardBoards(names, parseShard(`${i}/${n}`), new Map());
        seen.push(...mine);
        const planned = planBuild(ws, { boards: mine, runs: 2, jobs: 2, cores: 2 }).boards.map((b) => b.name);
        // Nothing this shard needs is left to another shard: built here, or restored from the store.
        for (const b of mine) for (const p of closure(b)) expect(planned, `${b} needs ${p}`).toContain(p);
        expect(new Set(planned).size).toBe(planned.length);
      }
      expect(seen.sort()).toEqual(names);
    },
  );
});

describe('ci github / ci circleci on the 40-board graph', () => {
  const generate = async (system: 'github' | 'circleci', shards: number) => {
    const r = await runCli([
      'ci',
      system,
      '--shards',
      String(shards),
      '--branch',
      'main',
      '--reprorom-from',
      `example/reprorom@${COMMIT}`,
      '-w',
      root,
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const file = system === 'github' ? '.github/workflows/reprorom.yml' : '.circleci/config.yml';
    return parse(await readFile(join(root, file), 'utf8'));
  };

  it('github: one producers job builds the 12 producers into the store; the shard jobs wait only for it and the images', async () => {
    const wf = await generate('github', 4);
    const build = wf.jobs.producers.steps.find((s: { name?: string }) => s.name === 'Build the producers');
    expect(build.run).toContain(`build ${producers.join(' ')} --runs 2 --store /var/cache/reprorom/store`);
    expect(wf.jobs.boards.needs).toEqual(['images', 'producers']);
    expect(wf.jobs.boards.strategy.matrix.shard).toEqual([1, 2, 3, 4]);
    // No job needs a board job: the shards never wait on one another.
    for (const job of Object.values(wf.jobs) as Array<{ needs?: string | string[] }>)
      if (job !== wf.jobs.compare) expect([job.needs ?? []].flat()).not.toContain('boards');
    expect(wf.env.REPROROM_STORE).toBe('/var/cache/reprorom/store');
  });

  it('circleci: the same spread, each shard building with --store', async () => {
    const config = await generate('circleci', 3);
    const jobs = config.workflows.reprorom.jobs as Array<Record<string, { requires?: unknown[] }>>;
    const requires = (name: string) => jobs.find((j) => typeof j === 'object' && name in j)?.[name]?.requires;
    expect(requires('producers')).toEqual(['images']);
    expect(requires('boards')).toEqual(['images', 'producers']);
    expect(config.jobs.boards.parallelism).toBe(3);
    const shardStep = config.jobs.boards.steps.find(
      (s: { run?: { name: string } }) => s.run?.name === 'Build this shard',
    );
    expect(shardStep.run.command).toContain('--shard $SHARD/3');
    expect(shardStep.run.command).toContain('--store /var/cache/reprorom/store');
  });
});
