/** What the generated workflows do: images → shards on separate machines → merge, compare, report. */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { circleciConfig } from '../../src/ci/circleci.js';
import { planWorkflow, type WorkflowPlan } from '../../src/ci/generate.js';
import { githubWorkflow } from '../../src/ci/github.js';
import { loadValidWorkspace } from '../../src/workspace/load.js';
import { repoRoot, runCli } from '../helpers/cli.js';

const plan: WorkflowPlan = {
  shards: 3,
  runs: 2,
  images: ['firmware'],
  offlinePins: [{ name: 'offline', dir: 'pins/offline' }],
  install: { kind: 'project' },
};
type Step = {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  id?: string;
  with?: Record<string, string>;
};
const step = (steps: Step[], name: string) => {
  const s = steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step ${name}`);
  return s;
};

describe('planWorkflow', () => {
  it("plans this repository: its images, its offline package set, reprorom from the project's own lock", async () => {
    const p = planWorkflow(await loadValidWorkspace(repoRoot), { shards: 4, toolVersion: '9.9.9' });
    expect(p.images).toEqual(['firmware']);
    expect(p.offlinePins).toEqual([{ name: 'offline', dir: 'pins/offline' }]);
    expect(p.install).toEqual({ kind: 'project' });
    expect(p).toMatchObject({ shards: 4, runs: 2 });
  });
  it('a firmware repository without package.json installs this reprorom version globally', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'rr-ci-plan-'));
    try {
      for (const d of ['pins', 'images', 'boards'])
        await cp(join(repoRoot, d), join(ws, d), { recursive: true });
      const p = planWorkflow(await loadValidWorkspace(ws), { shards: 2, toolVersion: '9.9.9' });
      expect(p.install).toEqual({ kind: 'global', version: '9.9.9' });
      const wf = parse(githubWorkflow(p));
      expect(step(wf.jobs.images.steps, 'Install reprorom').run).toBe('npm install --global reprorom@9.9.9');
      expect(step(wf.jobs.boards.steps, 'Build this shard').run).toMatch(/^reprorom build --all/);
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });
});

describe('GitHub workflow', () => {
  const text = githubWorkflow(plan);
  const wf = parse(text);

  it('is deterministic and has no YAML anchors', () => {
    expect(githubWorkflow({ ...plan })).toBe(text);
    expect(text).not.toMatch(/[&*]a\d/);
  });

  it('an image job filling a cache keyed by the pins, images and offline set; every job in Debian bookworm', () => {
    expect(Object.keys(wf.jobs)).toEqual(['images', 'boards', 'compare']);
    const cache = step(wf.jobs.images.steps, 'Image cache');
    expect(cache.uses).toBe('actions/cache@v4');
    expect(cache.with?.['path']).toBe('/var/cache/reprorom/images');
    expect(cache.with?.['key']).toBe(
      "reprorom-images-project-${{ hashFiles('pins/*.yaml', 'images/*.yaml', 'pins/offline/**', 'package-lock.json') }}",
    );
    expect(wf.env.REPROROM_CACHE).toBe('/var/cache/reprorom');
    expect(step(wf.jobs.images.steps, 'Fetch the offline package sets').if).toBe(
      "steps.images.outputs.cache-hit != 'true'",
    );
    expect(step(wf.jobs.images.steps, 'Build the images').run).toBe(
      'npx --no-install reprorom image build firmware --no-load',
    );
    for (const job of Object.values(wf.jobs) as Array<{ container: { image: string } }>)
      expect(job.container.image).toBe('node:20-bookworm');
  });

  it('one board job per shard, on its own machine, with the same cache key, uploading its run folder', () => {
    const boards = wf.jobs.boards;
    expect(boards.needs).toBe('images');
    expect(boards.strategy).toEqual({ 'fail-fast': false, matrix: { shard: [1, 2, 3] } });
    expect(boards.container.volumes).toEqual(['/var/run/docker.sock:/var/run/docker.sock']);
    expect(step(boards.steps, 'Restore the images').with?.['key']).toBe(
      step(wf.jobs.images.steps, 'Image cache').with?.['key'],
    );
    expect(step(boards.steps, 'Build this shard').run).toBe(
      'npx --no-install reprorom build --all --runs 2 --shard ${{ matrix.shard }}/3 --machine ci-shard-${{ matrix.shard }} --junit shard/junit.xml',
    );
    expect(step(boards.steps, 'Collect the run folder')).toMatchObject({ if: 'always()' });
    // Not .reprorom/runs directly: upload-artifact leaves hidden folders out.
    expect(step(boards.steps, 'Upload the run folder').with).toMatchObject({
      name: 'shard-${{ matrix.shard }}',
      path: 'shard',
    });
  });

  it('a last job downloads every shard, merges, compares, writes the HTML report and uploads it all', () => {
    const compare = wf.jobs.compare;
    expect(compare.needs).toBe('boards');
    expect(compare.if).toBe('${{ !cancelled() }}');
    const download = compare.steps.find((s: Step) => s.uses === 'actions/download-artifact@v4');
    expect(download.with).toEqual({ pattern: 'shard-*', path: 'shards' });
    const script = step(compare.steps, 'Merge and compare').run ?? '';
    expect(script.split('\n')).toEqual([
      'npx --no-install reprorom merge shards/*/runs/* --out merged',
      'status=0',
      'npx --no-install reprorom compare merged --junit results/junit.xml --report report/diff || status=$?',
      'npx --no-install reprorom report merged --html report/index.html || [ $? -eq 1 ]',
      'exit $status',
    ]);
    expect(step(compare.steps, 'Upload ROMs, manifests, logs and reports')).toMatchObject({
      if: 'always()',
      with: { name: 'reprorom-results', path: 'merged\nreport\nresults' },
    });
  });
});

describe('CircleCI config', () => {
  const cfg = parse(circleciConfig(plan));
  type CStep =
    | string
    | Record<string, { name?: string; command?: string; when?: string } & Record<string, unknown>>;
  const run = (steps: CStep[], name: string) =>
    steps.flatMap((s) => (typeof s === 'object' && s['run']?.name === name ? [s['run']] : []))[0];

  it('parallel shards from CIRCLE_NODE_INDEX against the remote engine, a workspace handed to the compare job', () => {
    expect(circleciConfig(plan)).toBe(circleciConfig({ ...plan }));
    expect(cfg.version).toBe(2.1);
    expect(cfg.jobs.boards.parallelism).toBe(3);
    expect(cfg.jobs.boards.steps).toContain('setup_remote_docker');
    expect(run(cfg.jobs.boards.steps, 'Build this shard')?.command).toBe(
      'SHARD=$((CIRCLE_NODE_INDEX + 1))\nnpx --no-install reprorom build --all --runs 2 --shard $SHARD/3 --machine ci-shard-$SHARD --junit shard/junit.xml',
    );
    expect(run(cfg.jobs.boards.steps, 'Collect the run folder')?.when).toBe('always');
    expect(cfg.workflows.reprorom.jobs).toEqual([
      'images',
      { boards: { requires: ['images'] } },
      { compare: { requires: ['boards'] } },
    ]);
    expect(cfg.jobs.compare.steps).toContainEqual({ attach_workspace: { at: 'shards' } });
    expect(run(cfg.jobs.compare.steps, 'Merge and compare')?.command).toContain(
      'merge shards/*/runs/* --out merged',
    );
  });

  it('the image cache key checksums the pins, images, offline set and lock, in a stable order', async () => {
    const key = run(cfg.jobs.images.steps, 'Image cache key')?.command ?? '';
    expect(key).toBe(
      "{ printf '%s\\n' pins/*.yaml; printf '%s\\n' images/*.yaml; find pins/offline -type f; printf '%s\\n' package-lock.json; } | LC_ALL=C sort | xargs sha256sum > .reprorom-image-key",
    );
    const saves = cfg.jobs.images.steps.filter((s: CStep) => typeof s === 'object' && 'save_cache' in s);
    expect(saves).toEqual([
      {
        save_cache: {
          key: 'reprorom-images-project-{{ checksum ".reprorom-image-key" }}',
          paths: ['/var/cache/reprorom/images'],
        },
      },
    ]);
    // The key command runs as written, in this repository: a real shell, real files.
    const { execa } = await import('execa');
    const dir = await mkdtemp(join(tmpdir(), 'rr-ci-key-'));
    try {
      for (const d of ['pins', 'images']) await cp(join(repoRoot, d), join(dir, d), { recursive: true });
      await writeFile(join(dir, 'package-lock.json'), '{}');
      const once = async () => {
        await execa('bash', ['-eo', 'pipefail', '-c', key], { cwd: dir });
        return (await import('node:fs/promises')).readFile(join(dir, '.reprorom-image-key'), 'utf8');
      };
      const first = await once();
      expect(first).toMatch(/pins\/offline\/debs\.lock\.json/);
      expect(await once()).toBe(first);
      await writeFile(join(dir, 'images', 'firmware.yaml'), '# changed\n', { flag: 'a' });
      expect(await once()).not.toBe(first);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('reprorom ci (command)', () => {
  it("this repository's .github/workflows/reprorom.yml is exactly what `reprorom ci github` generates", async () => {
    const r = await runCli(['ci', 'github', '--stdout']);
    expect(r.exitCode, r.stderr).toBe(0);
    const file = await (await import('node:fs/promises')).readFile(
      join(repoRoot, '.github/workflows/reprorom.yml'),
      'utf8',
    );
    expect(file, 'regenerate with: node bin/reprorom.js ci github').toBe(`${r.stdout}\n`);
  });

  it('writes the default path, prints it, and refuses a bad --shards', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'rr-ci-out-')), 'wf.yml');
    const r = await runCli(['ci', 'github', '--shards', '3', '--out', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(out);
    const stdout = await runCli(['ci', 'github', '--shards', '3', '--stdout']);
    // execa drops the final newline of stdout.
    expect(await (await import('node:fs/promises')).readFile(out, 'utf8')).toBe(`${stdout.stdout}\n`);
    const bad = await runCli(['ci', 'circleci', '--shards', '0']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--shards 0 is not a whole number/);
  });
});
