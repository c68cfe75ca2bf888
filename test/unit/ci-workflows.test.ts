/** What the generated workflows do: images → shards on separate machines → merge, compare, report. */
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTIONS } from '../../src/ci/actions.js';
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
  install: { kind: 'self' },
  container: 'node:20-bookworm',
};
const COMMIT = 'c0ffee0000000000000000000000000000000001';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
type Step = {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  id?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
};
const step = (steps: Step[], name: string) => {
  const s = steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step ${name}`);
  return s;
};

describe('planWorkflow', () => {
  it('plans this repository: its images, its offline package set, reprorom from its own checkout', async () => {
    const p = planWorkflow(await loadValidWorkspace(repoRoot), { shards: 4 });
    expect(p.images).toEqual(['firmware', 'initrd']);
    expect(p.offlinePins).toEqual([{ name: 'offline', dir: 'pins/offline' }]);
    expect(p.install).toEqual({ kind: 'self' });
    expect(p).toMatchObject({ shards: 4, runs: 2, container: 'node:20-bookworm' });
  });
  it('a firmware repository without package.json is refused without --reprorom-from, and installs that commit with it', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'rr-ci-plan-'));
    try {
      for (const d of ['pins', 'images', 'boards', 'probe', 'initrds', 'kernel'])
        await cp(join(repoRoot, d), join(ws, d), { recursive: true });
      const loaded = await loadValidWorkspace(ws);
      // reprorom is not on the npm registry: a bare version could not be installed.
      expect(() => planWorkflow(loaded, { shards: 2 })).toThrow(/does not depend on reprorom/);
      const p = planWorkflow(loaded, {
        shards: 2,
        reproromFrom: { repo: 'example/reprorom', commit: COMMIT },
      });
      expect(p.install).toEqual({ kind: 'git', repo: 'example/reprorom', commit: COMMIT });
      const text = githubWorkflow(p);
      const wf = parse(text);
      expect(step(wf.jobs.images.steps, 'Install reprorom').run).toBe(
        `npm install --global github:example/reprorom#${COMMIT}`,
      );
      expect(step(wf.jobs.images.steps, 'Build the images').run).toMatch(/^reprorom image build/);
      expect(step(wf.jobs.boards.steps, 'Build this shard').uses).toBe(`example/reprorom@${COMMIT}`);
      expect(text).toContain(
        `uses: example/reprorom@${COMMIT} # reprorom, the commit given to --reprorom-from`,
      );
      expect(step(wf.jobs.images.steps, 'Image cache').with?.['key']).toMatch(
        /^reprorom-images-c0ffee000000-/,
      );
      // The lock of a repository that has none is not hashed.
      expect(step(wf.jobs.images.steps, 'Image cache').with?.['key']).not.toContain('package-lock.json');
      await writeFile(
        join(ws, 'package.json'),
        JSON.stringify({ devDependencies: { reprorom: 'github:x/y' } }),
      );
      const dep = planWorkflow(await loadValidWorkspace(ws), { shards: 2 });
      expect(dep.install).toEqual({ kind: 'project' });
      expect(step(parse(githubWorkflow(dep)).jobs.boards.steps, 'Build this shard').uses).toBe(
        './node_modules/reprorom',
      );
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
    expect(cache.uses).toBe('actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830');
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

  it("one board job per shard, on its own machine, with the same cache key, building through reprorom's action", () => {
    const boards = wf.jobs.boards;
    expect(boards.needs).toBe('images');
    expect(boards.strategy).toEqual({ 'fail-fast': false, matrix: { shard: [1, 2, 3] } });
    expect(boards.container.volumes).toEqual(['/var/run/docker.sock:/var/run/docker.sock']);
    expect(step(boards.steps, 'Restore the images').with?.['key']).toBe(
      step(wf.jobs.images.steps, 'Image cache').with?.['key'],
    );
    // This repository's own action (action.yml at the root), with its inputs.
    expect(step(boards.steps, 'Build this shard')).toEqual({
      name: 'Build this shard',
      id: 'build',
      uses: './',
      with: {
        runs: '2',
        shard: '${{ matrix.shard }}/3',
        machine: 'ci-shard-${{ matrix.shard }}',
        junit: 'shard/junit.xml',
      },
    });
    // Its outputs, read through the environment (never spliced into the script).
    expect(step(boards.steps, 'Verdict').env).toEqual({
      VERDICT: '${{ steps.build.outputs.verdict }}',
      RUN_FOLDER: '${{ steps.build.outputs.run-folder }}',
    });
    expect(step(boards.steps, 'Collect the run folder')).toMatchObject({ if: 'always()' });
    // Not .reprorom/runs directly: upload-artifact leaves hidden folders out.
    expect(step(boards.steps, 'Upload the run folder').with).toMatchObject({
      name: 'shard-${{ matrix.shard }}',
      path: 'shard',
    });
  });

  it('every action is pinned to a full commit, with its version in a comment', () => {
    const lines = text.split('\n').filter((l) => /^\s*(- )?uses: /.test(l));
    expect(lines.length).toBe(9);
    for (const line of lines) {
      if (line.trim().endsWith('uses: ./')) continue;
      expect(line).toMatch(/uses: [a-z-]+\/[a-z/-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
    expect(text).toContain(`uses: actions/checkout@${ACTIONS.checkout.commit} # ${ACTIONS.checkout.version}`);
    expect(text).not.toMatch(/@v\d/);
  });

  it('one run per branch or pull request at a time; a newer push to a pull request cancels the older run', () => {
    expect(wf.concurrency).toEqual({
      group: 'reprorom-${{ github.ref }}',
      'cancel-in-progress': "${{ github.event_name == 'pull_request' }}",
    });
  });

  it('a container pinned by digest is used by every job', () => {
    const pinned = parse(githubWorkflow({ ...plan, container: `node:20-bookworm@${DIGEST}` }));
    for (const job of Object.values(pinned.jobs) as Array<{ container: { image: string } }>)
      expect(job.container.image).toBe(`node:20-bookworm@${DIGEST}`);
  });

  it('a last job downloads every shard, merges, compares, writes the HTML report and uploads it all', () => {
    const compare = wf.jobs.compare;
    expect(compare.needs).toBe('boards');
    expect(compare.if).toBe('${{ !cancelled() }}');
    const download = compare.steps.find(
      (s: Step) => s.uses === 'actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093',
    );
    expect(download.with).toEqual({ pattern: 'shard-*', path: 'shards' });
    const script = step(compare.steps, 'Merge and compare').run ?? '';
    expect(script.split('\n')).toEqual([
      'npx --no-install reprorom merge shards/*/runs/* --out merged || exit $?',
      'status=0',
      'npx --no-install reprorom compare merged --allow-expected --junit results/junit.xml --report report/diff || status=$?',
      'npx --no-install reprorom report merged --html report/index.html || { s=$?; [ "$s" -eq 1 ] || exit "$s"; }',
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
    | Record<
        string,
        { name?: string; command?: string; when?: string; no_output_timeout?: string } & Record<
          string,
          unknown
        >
      >;
  const run = (steps: CStep[], name: string) =>
    steps.flatMap((s) => (typeof s === 'object' && s['run']?.name === name ? [s['run']] : []))[0];

  it('parallel shards from CIRCLE_NODE_INDEX against the remote engine, a workspace handed to the compare job', () => {
    expect(circleciConfig(plan)).toBe(circleciConfig({ ...plan }));
    expect(cfg.version).toBe(2.1);
    expect(cfg.jobs.boards.parallelism).toBe(3);
    expect(cfg.jobs.boards.steps).toContain('setup_remote_docker');
    expect(run(cfg.jobs.boards.steps, 'Build this shard')?.command).toBe(
      [
        'SHARD=$((CIRCLE_NODE_INDEX + 1))',
        'mkdir -p shard',
        'status=0',
        'npx --no-install reprorom build --all --runs 2 --shard $SHARD/3 --machine ci-shard-$SHARD --junit shard/junit.xml || status=$?',
        'echo "$status" > shard/build-status',
      ].join('\n'),
    );
    expect(run(cfg.jobs.boards.steps, 'Collect the run folder')?.when).toBe('always');
    expect(cfg.jobs.compare.steps).toContainEqual({ attach_workspace: { at: 'shards' } });
    expect(run(cfg.jobs.compare.steps, 'Merge and compare')?.command).toContain(
      'merge shards/*/runs/* --out merged',
    );
  });

  it('merge, compare and report run when board jobs failed: requires with job statuses', () => {
    expect(cfg.workflows.reprorom.jobs).toEqual([
      'images',
      { boards: { requires: ['images'] } },
      { compare: { requires: [{ boards: ['success', 'failed'] }] } },
    ]);
  });

  it('long steps may be quiet for 30 minutes (CircleCI kills a job after 10 by default); every job has a resource class', () => {
    for (const [job, name] of [
      ['images', 'Build the images'],
      ['images', 'Fetch the offline package sets (only without cached images)'],
      ['boards', 'Build this shard'],
      ['compare', 'Merge and compare'],
    ] as const)
      expect(run(cfg.jobs[job].steps, name)?.['no_output_timeout'], `${job}: ${name}`).toBe('30m');
    expect([
      cfg.jobs.images.resource_class,
      cfg.jobs.boards.resource_class,
      cfg.jobs.compare.resource_class,
    ]).toEqual(['large', 'large', 'medium']);
    expect(parse(circleciConfig(plan, 'xlarge')).jobs.boards.resource_class).toBe('xlarge');
    expect(circleciConfig(plan, 'xlarge')).toMatch(
      /^# Generated by `reprorom ci circleci --shards 3 --resource-class xlarge`/,
    );
  });

  it('logs and run folders are stored as artifacts: the shard on each board node, merged and report after compare', () => {
    expect(cfg.jobs.boards.steps).toContainEqual({
      store_artifacts: { path: 'shard', destination: 'shard' },
    });
    expect(cfg.jobs.compare.steps).toContainEqual({ store_artifacts: { path: 'merged' } });
    expect(cfg.jobs.compare.steps).toContainEqual({ store_artifacts: { path: 'report' } });
  });

  it('a mismatching shard still persists its run folder and artifacts, then fails its job (the steps, run in bash)', async () => {
    // CircleCI skips persist_to_workspace and later steps after a failed step: the build step keeps its status instead.
    const dir = await mkdtemp(join(tmpdir(), 'rr-ci-circle-'));
    try {
      const bin = join(dir, 'bin');
      await mkdir(bin);
      // A stand-in for `npx --no-install reprorom`: writes a run folder and reports a mismatch (exit 1).
      await writeFile(
        join(bin, 'npx'),
        [
          '#!/bin/sh',
          // `npx --no-install reprorom SUBCOMMAND …`
          'case "$3" in',
          '  build) mkdir -p .reprorom/runs/r1/alpha/1 && echo log > .reprorom/runs/r1/alpha/1/build.log; exit 1 ;;',
          '  merge) [ -e fail-merge ] && exit 2; exit 0 ;;',
          '  *) exit 1 ;;',
          'esac',
          '',
        ].join('\n'),
      );
      await chmod(join(bin, 'npx'), 0o755);
      const steps = cfg.jobs.boards.steps as CStep[];
      const order = steps.flatMap((s) => (typeof s === 'object' && s['run'] ? [s['run']] : []));
      const names = order.map((r) => r.name);
      // Build, collect (always), then storing and persisting, and only then the step that fails the job.
      expect(names.slice(-3)).toEqual([
        'Build this shard',
        'Collect the run folder',
        'Fail when the build failed',
      ]);
      const persistAt = steps.findIndex((s) => typeof s === 'object' && 'persist_to_workspace' in s);
      const failAt = steps.findIndex(
        (s) => typeof s === 'object' && s['run']?.name === 'Fail when the build failed',
      );
      expect(persistAt).toBeGreaterThan(0);
      expect(failAt).toBe(steps.length - 1);
      const { execa } = await import('execa');
      const sh = (cmd: string) =>
        execa(
          'bash',
          ['-eo', 'pipefail', '-c', cmd.replaceAll('/tmp/reprorom-shards', join(dir, 'shards'))],
          {
            cwd: dir,
            env: { PATH: `${bin}:${process.env['PATH']}`, CIRCLE_NODE_INDEX: '1' },
            reject: false,
          },
        );
      const build = await sh(run(steps, 'Build this shard')?.command ?? '');
      expect(build.exitCode, build.stderr).toBe(0);
      expect(await readFile(join(dir, 'shard', 'build-status'), 'utf8')).toBe('1\n');
      expect((await sh(run(steps, 'Collect the run folder')?.command ?? '')).exitCode).toBe(0);
      expect(
        await readFile(join(dir, 'shards', 'shard-2', 'runs', 'r1', 'alpha', '1', 'build.log'), 'utf8'),
      ).toBe('log\n');
      const fail = await sh(run(steps, 'Fail when the build failed')?.command ?? '');
      expect(fail.exitCode).toBe(1);
      // The compare job does the same: results are stored before the job fails with compare's status.
      const cmp = await sh(run(cfg.jobs.compare.steps, 'Merge and compare')?.command ?? '');
      expect(cmp.exitCode).toBe(0);
      expect(await readFile(join(dir, 'compare-status'), 'utf8')).toBe('1\n');
      expect(
        (await sh(run(cfg.jobs.compare.steps, 'Fail on a mismatch or an error')?.command ?? '')).exitCode,
      ).toBe(1);
      // An error of merge (2) stops the script there, and is the status kept.
      await writeFile(join(dir, 'fail-merge'), '');
      expect((await sh(run(cfg.jobs.compare.steps, 'Merge and compare')?.command ?? '')).exitCode).toBe(0);
      expect(await readFile(join(dir, 'compare-status'), 'utf8')).toBe('2\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
  it("this repository's .github/workflows/reprorom.yml is exactly what the command in its first line generates", async () => {
    const file = await readFile(join(repoRoot, '.github/workflows/reprorom.yml'), 'utf8');
    const command = /^# Generated by `reprorom (ci github[^`]*)`/.exec(file)?.[1];
    expect(command).toBeDefined();
    const r = await runCli([...(command ?? '').split(' '), '--stdout']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(file, `regenerate with: node bin/reprorom.js ${command}`).toBe(`${r.stdout}\n`);
  });

  it('writes the default path, prints it, and refuses a bad --shards, --container or --reprorom-from', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'rr-ci-out-')), 'wf.yml');
    const r = await runCli(['ci', 'github', '--shards', '3', '--branch', 'main', '--out', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(out);
    const stdout = await runCli(['ci', 'github', '--shards', '3', '--branch', 'main', '--stdout']);
    // execa drops the final newline of stdout.
    expect(await readFile(out, 'utf8')).toBe(`${stdout.stdout}\n`);
    for (const [args, message] of [
      [['ci', 'circleci', '--shards', '0'], /--shards 0 is not a whole number/],
      [
        ['ci', 'github', '--container', 'node:20@sha256:abc'],
        /--container node:20@sha256:abc is not an image/,
      ],
      [['ci', 'github', '--reprorom-from', 'example/reprorom@v0.1.0'], /full 40-hex commit/],
      [['ci', 'circleci', '--resource-class', 'LARGE PLEASE'], /--resource-class LARGE PLEASE is not/],
    ] as const) {
      const bad = await runCli([...args, '--stdout']);
      expect(bad.exitCode, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(message);
      expect(bad.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('warns when the container is a moving tag, not when it is pinned by digest; the first line says how to regenerate', async () => {
    const tag = await runCli(['ci', 'github', '--branch', 'main', '--stdout']);
    expect(tag.stderr).toContain(
      'warning: the container node:20-bookworm is a moving tag; pin it with --container node:20-bookworm@sha256:<digest>',
    );
    for (const system of ['github', 'circleci']) {
      const pinned = await runCli([
        'ci',
        system,
        '--branch',
        'main',
        '--container',
        `node:20-bookworm@${DIGEST}`,
        '--stdout',
      ]);
      expect(pinned.exitCode, pinned.stderr).toBe(0);
      expect(pinned.stderr).not.toContain('warning');
      expect(pinned.stdout).toMatch(
        new RegExp(
          `^# Generated by \`reprorom ci ${system} --shards 2 --branch main --container node:20-bookworm@${DIGEST}\``,
        ),
      );
      expect(pinned.stdout).toContain(`image: node:20-bookworm@${DIGEST}`);
      expect(pinned.stdout).not.toMatch(/image: node:20-bookworm$/m);
    }
  });

  it('a firmware repository without reprorom in package.json needs --reprorom-from (exit 2, no npm registry install)', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'rr-ci-git-'));
    try {
      for (const d of ['pins', 'images', 'boards', 'probe', 'initrds', 'kernel'])
        await cp(join(repoRoot, d), join(ws, d), { recursive: true });
      const refused = await runCli(['ci', 'github', '--branch', 'main', '--stdout', '-w', ws]);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toMatch(/does not depend on reprorom, and reprorom is not on the npm registry/);
      const ok = await runCli([
        'ci',
        'circleci',
        '--stdout',
        '-w',
        ws,
        '--reprorom-from',
        `example/reprorom@${COMMIT}`,
      ]);
      expect(ok.exitCode, ok.stderr).toBe(0);
      expect(ok.stdout).toContain(`npm install --global github:example/reprorom#${COMMIT}`);
      expect(ok.stdout).not.toMatch(/reprorom@\d/);
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });
});
