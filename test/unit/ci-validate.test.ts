/**
 * The generated workflows, and the composite action, checked by validators that
 * are not ours: GitHub's workflow parser and schema (@actions/workflow-parser,
 * what the Actions language server uses); CircleCI's config parser and JSON
 * schemas (@circleci/circleci-config-parser, from CircleCI's config SDK) and
 * CircleCI's current config schema (their YAML language server's, which knows
 * status-based `requires`); SchemaStore's schema of GitHub action metadata for
 * action.yml. The two schema files are stored in test/fixtures/schemas (sources
 * in its README).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import circleci from '@circleci/circleci-config-parser';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { circleciConfig, keyFileCommand } from '../../src/ci/circleci.js';
import type { WorkflowPlan } from '../../src/ci/generate.js';
import { githubWorkflow } from '../../src/ci/github.js';
import {
  circleciRebuilderConfig,
  DEFAULT_REBUILD_SCHEDULE,
  githubRebuilderWorkflow,
  type RebuilderPlan,
} from '../../src/ci/rebuilder.js';
import { storeKeyFiles } from '../../src/ci/storeCache.js';
import type { StoreKeyFields } from '../../src/runs/store.js';
import { repoRoot } from '../helpers/cli.js';

const githubErrors = (content: string) =>
  parseWorkflow({ name: 'workflow.yml', content }, new NoOperationTraceWriter())
    .context.errors.getErrors()
    .map((e) => e.message);

const schemas = join(repoRoot, 'test/fixtures/schemas');
const ajv = new Ajv({ strict: false, allErrors: true });
const circleciSchema = ajv.compile(JSON.parse(await readFile(join(schemas, 'circleci-config.json'), 'utf8')));
const actionSchema = ajv.compile(JSON.parse(await readFile(join(schemas, 'github-action.json'), 'utf8')));
const schemaErrors = (validate: typeof actionSchema, value: unknown) =>
  validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`.trim());

type Requirement = string | Record<string, string | string[]>;
const requirementName = (r: Requirement) => (typeof r === 'string' ? r : Object.keys(r)[0]!);

/**
 * Schema errors (CircleCI's current schema, and the config SDK's), parse errors,
 * and workflow jobs or requirements that name no job.
 */
function circleciErrors(content: string): string[] {
  const config = parse(content) as {
    jobs?: Record<string, unknown>;
    workflows?: Record<string, { jobs: Array<string | Record<string, { requires?: Requirement[] }>> }>;
  };
  const errors = schemaErrors(circleciSchema, config);
  // The SDK (0.10.0-alpha.3) predates `requires: [{ job: [statuses] }]` and takes job names only:
  // it checks everything else, on a copy whose requirements are their job names.
  const sdkView = structuredClone(config);
  for (const wf of Object.values(sdkView.workflows ?? {}))
    for (const j of wf.jobs)
      if (typeof j === 'object')
        for (const opts of Object.values(j))
          if (opts?.requires) opts.requires = opts.requires.map(requirementName);
  const result = circleci.Validator.validateGenerable('config' as never, sdkView);
  if (result === false) errors.push('invalid');
  else if (result !== true)
    errors.push(...result.errors.map((e) => `${e.instancePath} ${e.message ?? ''}`.trim()));
  if (errors.length > 0) return errors;
  try {
    circleci.parseConfig(sdkView);
  } catch (err) {
    errors.push(String(err instanceof Error ? err.message : err));
  }
  for (const wf of Object.values(config.workflows ?? {})) {
    for (const j of wf.jobs) {
      const name = typeof j === 'string' ? j : Object.keys(j)[0];
      const requires = typeof j === 'string' ? [] : (Object.values(j)[0]?.requires ?? []);
      for (const n of [name, ...requires.map(requirementName)])
        if (!config.jobs?.[n as string]) errors.push(`unknown job ${n}`);
    }
  }
  return errors;
}

const base = { images: ['firmware'], offlinePins: [{ name: 'offline', dir: 'pins/offline' }] };
const plans: WorkflowPlan[] = [1, 2, 5].flatMap((shards): WorkflowPlan[] => [
  { ...base, shards, runs: 2, install: { kind: 'self' }, container: 'node:20-bookworm' },
  {
    shards,
    runs: 3,
    images: ['a', 'b'],
    offlinePins: [],
    install: { kind: 'git', repo: 'example/reprorom', commit: 'c0ffee0000000000000000000000000000000001' },
    container: `node:20-bookworm@sha256:${'ab'.repeat(32)}`,
  },
  { ...base, shards, runs: 2, install: { kind: 'project' }, container: 'debian:bookworm' },
]);

describe("GitHub's workflow schema", () => {
  it('finds errors in a broken workflow (the validator works)', () => {
    expect(
      githubErrors('on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n').length,
    ).toBeGreaterThan(0);
    expect(githubErrors(githubWorkflow(plans[0]!).replace('runs-on:', 'runs_on:')).length).toBeGreaterThan(0);
  });
  it.each(plans.map((p) => [p.shards, p.install.kind, p]))(
    'accepts the generated workflow (%i shards, %s install)',
    (_s, _k, plan) => {
      expect(githubErrors(githubWorkflow(plan as WorkflowPlan))).toEqual([]);
    },
  );
  it.each(['reprorom.yml', 'ci.yml'])("accepts this repository's .github/workflows/%s", async (file) => {
    expect(githubErrors(await readFile(join(repoRoot, '.github/workflows', file), 'utf8'))).toEqual([]);
  });
});

describe("CircleCI's config schema", () => {
  // Each a config broken in one place: the validator must find it (it works).
  it.each([
    ['    steps:', '    stepz:'],
    ['when: always', 'when: sometimes'],
    ['- image: node:20-bookworm', '- imag: node:20-bookworm'],
    ['- setup_remote_docker', '- setup_remote_dockr'],
    ['no_output_timeout: 30m', 'no_output_timeout: half an hour'],
    ['- success\n', '- succeeded\n'],
    ['- boards:\n', '- bords:\n'],
    ['- images\n', '- imagez\n'],
  ])('finds the error in a config with %j changed to %j', (from, to) => {
    const good = circleciConfig(plans[0]!);
    expect(good).toContain(from);
    expect(circleciErrors(good.replace(from, to)).length).toBeGreaterThan(0);
  });
  it.each(plans.map((p) => [p.shards, p.install.kind, p]))(
    'accepts the generated config (%i shards, %s install)',
    (_s, _k, plan) => {
      expect(circleciErrors(circleciConfig(plan as WorkflowPlan))).toEqual([]);
    },
  );
});

describe("GitHub's action metadata schema (SchemaStore)", () => {
  const action = async () => parse(await readFile(join(repoRoot, 'action.yml'), 'utf8'));
  it('finds errors in broken action metadata (the validator works)', async () => {
    const good = await action();
    expect(schemaErrors(actionSchema, good)).toEqual([]);
    const noDescription = structuredClone(good);
    delete noDescription.inputs.boards.description;
    expect(schemaErrors(actionSchema, noDescription).length).toBeGreaterThan(0);
    const noShell = structuredClone(good);
    delete noShell.runs.steps[1].shell;
    expect(schemaErrors(actionSchema, noShell).length).toBeGreaterThan(0);
    expect(
      schemaErrors(actionSchema, { ...good, runs: { ...good.runs, using: 'compsite' } }).length,
    ).toBeGreaterThan(0);
  });
  it("accepts this repository's action.yml: a composite action with the promised inputs and outputs", async () => {
    const a = await action();
    expect(schemaErrors(actionSchema, a)).toEqual([]);
    expect(a.runs.using).toBe('composite');
    expect(Object.keys(a.inputs)).toEqual(
      expect.arrayContaining(['boards', 'runs', 'shard', 'jobs', 'published-hashes']),
    );
    expect(Object.keys(a.outputs)).toEqual(['verdict', 'run-folder']);
    expect(a.outputs.verdict.value).toBe('${{ steps.build.outputs.verdict }}');
  });
});

describe('rebuilder workflows (ci github|circleci --rebuilder, issue 28 item 3)', () => {
  const r: RebuilderPlan = {
    releaseUrl: 'https://github.com/example/fw/releases/latest/download/release.tar.gz',
    builderId: 'ci-rebuilder@example',
    schedule: DEFAULT_REBUILD_SCHEDULE,
  };
  it.each(plans.map((p) => [p.shards, p.install.kind, p]))(
    "GitHub's parser accepts the rebuilder workflow (%i shards, %s install): schedule and release triggers, actions pinned by full SHA, the key from a secret",
    (_s, _k, plan) => {
      const text = githubRebuilderWorkflow({ ...(plan as WorkflowPlan), branch: 'main' }, r);
      expect(githubErrors(text)).toEqual([]);
      const doc = parse(text);
      expect(doc.on).toEqual({
        schedule: [{ cron: '17 3 * * 1' }],
        release: { types: ['published'] },
        workflow_dispatch: {},
      });
      const usesLines = [...text.matchAll(/uses: (\S+)/g)].map((m) => m[1]!);
      expect(usesLines.length).toBeGreaterThan(0);
      for (const u of usesLines) expect(u).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
      const step = doc.jobs.rebuild.steps.find((s: { run?: string }) => s.run?.includes(' attest '));
      expect(step.env).toEqual({ REPROROM_REBUILDER_KEY: '${{ secrets.REPROROM_REBUILDER_KEY }}' });
      expect(step.run).toContain(`curl -fsSL --retry 3 -o release.tar.gz '${r.releaseUrl}'`);
      expect(step.run).toMatch(/verify release --json > verify\.json/);
      expect(step.run).toMatch(
        /attest release --key rebuilder\.key --builder-id 'ci-rebuilder@example' --out attestation\/ci-rebuilder@example\.intoto\.jsonl --run < run-dirs/,
      );
      expect(text).toMatch(/^# .*secret REPROROM_REBUILDER_KEY/m);
      const upload = doc.jobs.rebuild.steps.at(-1);
      expect(upload.with.path).toBe('attestation\nverify.json');
    },
  );
  it.each(plans.map((p) => [p.shards, p.install.kind, p]))(
    "CircleCI's parsers accept the rebuilder config (%i shards, %s install): a scheduled workflow and one on release tags",
    (_s, _k, plan) => {
      const text = circleciRebuilderConfig({ ...(plan as WorkflowPlan), branch: 'main' }, r);
      expect(circleciErrors(text)).toEqual([]);
      const doc = parse(text);
      expect(doc.workflows['rebuild-scheduled'].triggers[0].schedule).toEqual({
        cron: '17 3 * * 1',
        filters: { branches: { only: ['main'] } },
      });
      expect(doc.workflows['rebuild-release'].jobs[0].rebuild.filters.tags.only).toBe('/^v.*/');
      expect(doc.jobs.rebuild.steps).toContain('setup_remote_docker');
      expect(text).not.toMatch(/BEGIN OPENSSH/);
      expect(text).toMatch(/^# .*project environment variable REPROROM_REBUILDER_KEY/m);
      // A broken copy is caught: the validator works on this config too.
      for (const [from, to] of [
        ['- setup_remote_docker', '- setup_remote_dockr'],
        ['- rebuild\n', '- rebuilt\n'],
      ]) {
        expect(text).toContain(from);
        expect(circleciErrors(text.replace(from!, to!)).length, to).toBeGreaterThan(0);
      }
    },
  );
});

const store = { producers: ['kernel', 'toolchain'], sources: ['src'] };
const storePlans: WorkflowPlan[] = plans.map((p) => ({ ...p, store }));
const SHA_PIN = /^actions\/cache\/(restore|save)@[0-9a-f]{40}$/;
/**
 * Where each field of the store key (src/runs/store.ts) comes from, as a part of the cache
 * key. `satisfies` makes a field added to StoreKeyFields a compile error here until covered.
 */
const covers = {
  schema: 'reprorom-store-',
  tool: 'c0ffee000000',
  board: 'boards/**',
  definition: 'boards/**',
  image: 'images/*.yaml',
  pins: 'pins/*.yaml',
  source: 'src/**',
  // 'commit' (a git source's commit time) is pinned in the board file, as the commit is.
  sourceDateEpoch: 'boards/**',
  // Board inputs are runs of other boards (boards/**); url and debian inputs carry their sha256 there.
  inputs: 'boards/**',
  index: 'runs3-',
  variation: 'runs3-',
  varyOn: 'boards/**',
} satisfies Record<keyof StoreKeyFields, string>;

describe('the producer store cached between jobs (issue 29 item 2): GitHub', () => {
  it.each(storePlans.map((p) => [p.shards, p.install.kind, p]))(
    'GitHub: the workflow with the store cache parses (%i shards, %s install), actions pinned by commit',
    (_s, _k, plan) => {
      const text = githubWorkflow(plan as WorkflowPlan);
      expect(githubErrors(text)).toEqual([]);
      const wf = parse(text);
      const cacheSteps = [...wf.jobs.producers.steps, ...wf.jobs.boards.steps].filter(
        (s: { with?: { path?: string } }) => s.with?.path === '/var/cache/reprorom/store',
      );
      expect(cacheSteps.map((s: { uses: string }) => s.uses.replace(/@.*/, ''))).toEqual([
        'actions/cache/restore',
        'actions/cache/save',
        'actions/cache/restore',
      ]);
      for (const s of cacheSteps) expect(s.uses).toMatch(SHA_PIN);
      expect(new Set(cacheSteps.map((s: { with: { key: string } }) => s.with.key)).size).toBe(1);
    },
  );

  it('GitHub: the store cache key includes everything the store key includes', () => {
    const plan = storePlans.find((p) => p.install.kind === 'git')!;
    const wf = parse(githubWorkflow(plan));
    const key: string = wf.jobs.boards.steps.find((s: { id?: string }) => s.id === 'store').with.key;
    for (const [field, part] of Object.entries(covers)) expect(key, field).toContain(part);
    // The project install: the tool is package-lock.json's reprorom.
    const project = parse(githubWorkflow(storePlans.find((p) => p.install.kind === 'project')!));
    expect(project.jobs.producers.steps.find((s: { id?: string }) => s.id === 'store').with.key).toContain(
      "'package-lock.json'",
    );
  });

  it('a board whose source is the workspace itself: the key hashes the whole checkout but .git', () => {
    const files = storeKeyFiles({ ...plans[0]!, store: { producers: ['p'], sources: ['.'] } });
    expect(files).toEqual(expect.arrayContaining(['**', '!.git/**', 'boards/**']));
  });
});

describe('the producer store cached between jobs (issue 29 item 2): CircleCI', () => {
  it.each(storePlans.map((p) => [p.shards, p.install.kind, p]))(
    'CircleCI: the config with the store cache parses (%i shards, %s install)',
    (_s, _k, plan) => {
      const text = circleciConfig(plan as WorkflowPlan);
      expect(circleciErrors(text)).toEqual([]);
      const config = parse(text);
      const restore = config.jobs.boards.steps.filter(
        (s: unknown) => typeof s === 'object' && s !== null && 'restore_cache' in s,
      );
      expect(restore.at(-1).restore_cache.keys).toEqual([
        expect.stringMatching(/^reprorom-store-.*\{\{ checksum "\.reprorom-store-key" \}\}$/),
      ]);
      const save = config.jobs.producers.steps.find(
        (s: { save_cache?: unknown } | string) => typeof s === 'object' && s.save_cache,
      ).save_cache;
      expect(save).toEqual({
        key: restore.at(-1).restore_cache.keys[0],
        paths: ['/var/cache/reprorom/store'],
      });
    },
  );

  it('CircleCI: the checksummed key file changes with a board, a source file, a pin or an image, and not with .git', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'rr-store-key-'));
    try {
      for (const d of ['boards', 'src', 'pins/offline', 'images', '.git'])
        await mkdir(join(ws, d), { recursive: true });
      for (const f of [
        'boards/a.yaml',
        'src/main.c',
        'pins/p.yaml',
        'pins/offline/x.deb',
        'images/i.yaml',
        '.git/HEAD',
        'package-lock.json',
      ])
        await writeFile(join(ws, f), 'one\n');
      const key = (sources: string[]) => {
        const cmd = keyFileCommand(
          storeKeyFiles({ ...plans[0]!, store: { producers: ['a'], sources } }),
          '.reprorom-store-key',
        );
        execFileSync('bash', ['-c', cmd], { cwd: ws });
        return execFileSync('sha256sum', ['.reprorom-store-key'], { cwd: ws, encoding: 'utf8' }).split(
          ' ',
        )[0];
      };
      for (const sources of [['src'], ['.']]) {
        let before = key(sources);
        for (const f of [
          'boards/a.yaml',
          'src/main.c',
          'pins/p.yaml',
          'pins/offline/x.deb',
          'images/i.yaml',
          'package-lock.json',
        ]) {
          await writeFile(join(ws, f), `changed ${sources.join()}\n`);
          const after = key(sources);
          expect(after, `${f} (sources ${sources.join()})`).not.toBe(before);
          before = after;
        }
        await writeFile(join(ws, '.git/HEAD'), `moved ${sources.join()}\n`);
        expect(key(sources), '.git').toBe(before);
      }
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });
});
