import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { circleciConfig, githubWorkflow } from '../../src/ci/workflows.js';

const plan = { shards: 3, images: ['firmware'], offlinePins: ['offline'], runs: 2 };

describe('generated CI workflows', () => {
  it('GitHub: an image job, a shard matrix that needs it, and a merge/compare job that uploads results', () => {
    const text = githubWorkflow(plan);
    expect(githubWorkflow(plan)).toBe(text);
    expect(text).not.toMatch(/[&*]a\d/); // no YAML anchors
    const wf = parse(text);
    expect(Object.keys(wf.jobs)).toEqual(['images', 'boards', 'compare']);
    expect(wf.jobs.boards.needs).toBe('images');
    expect(wf.jobs.boards.strategy.matrix.shard).toEqual([1, 2, 3]);
    const build = wf.jobs.boards.steps.find((s: { name?: string }) => s.name === 'Build this shard').run;
    expect(build).toContain('--shard ${{ matrix.shard }}/3 --machine ci-shard-${{ matrix.shard }} --junit');
    expect(wf.jobs.compare.needs).toBe('boards');
    const merge = wf.jobs.compare.steps.find((s: { name?: string }) => s.name === 'Merge and compare').run;
    expect(merge).toMatch(/reprorom merge .* --out merged/);
    expect(merge).toMatch(/reprorom compare merged --junit junit.xml/);
    const cache = wf.jobs.images.steps.find((s: { uses?: string }) => s.uses === 'actions/cache@v4');
    expect(cache.with.key).toContain("hashFiles('pins/**', 'images/**'");
    for (const job of Object.values(wf.jobs) as Array<{ 'runs-on': string; steps: unknown[] }>) {
      expect(job['runs-on']).toBe('ubuntu-latest');
      expect(job.steps.length).toBeGreaterThan(0);
    }
  });

  it('CircleCI: parallel shards from CIRCLE_NODE_INDEX, a workspace handed to the compare job', () => {
    const cfg = parse(circleciConfig(plan));
    expect(cfg.version).toBe(2.1);
    expect(cfg.jobs.boards.parallelism).toBe(3);
    const build = cfg.jobs.boards.steps.find(
      (s: { run?: { name: string } }) => s.run?.name === 'Build this shard',
    ).run.command;
    expect(build).toContain('SHARD=$((CIRCLE_NODE_INDEX + 1))');
    expect(build).toContain('--shard $SHARD/3');
    expect(cfg.workflows.reprorom.jobs).toEqual([
      'images',
      { boards: { requires: ['images'] } },
      { compare: { requires: ['boards'] } },
    ]);
    expect(cfg.jobs.compare.steps).toContainEqual({ attach_workspace: { at: '.' } });
    expect(
      cfg.jobs.images.steps.some((s: unknown) => typeof s === 'object' && s !== null && 'save_cache' in s),
    ).toBe(true);
  });
});
