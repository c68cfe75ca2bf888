/**
 * The generated workflows checked by the CI systems' own validators:
 * GitHub's workflow parser and schema (@actions/workflow-parser, what the Actions
 * language server uses) and CircleCI's config parser and JSON schemas
 * (@circleci/circleci-config-parser, from CircleCI's config SDK).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import circleci from '@circleci/circleci-config-parser';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { circleciConfig } from '../../src/ci/circleci.js';
import type { WorkflowPlan } from '../../src/ci/generate.js';
import { githubWorkflow } from '../../src/ci/github.js';
import { repoRoot } from '../helpers/cli.js';

const githubErrors = (content: string) =>
  parseWorkflow({ name: 'workflow.yml', content }, new NoOperationTraceWriter())
    .context.errors.getErrors()
    .map((e) => e.message);

/** Schema errors, parse errors, and workflow jobs that name no job. */
function circleciErrors(content: string): string[] {
  const config = parse(content) as {
    jobs?: Record<string, unknown>;
    workflows?: Record<string, { jobs: unknown[] }>;
  };
  const result = circleci.Validator.validateGenerable('config' as never, config);
  const errors =
    result === true
      ? []
      : result === false
        ? ['invalid']
        : result.errors.map((e) => `${e.instancePath} ${e.message ?? ''}`.trim());
  if (errors.length > 0) return errors;
  try {
    circleci.parseConfig(config);
  } catch (err) {
    errors.push(String(err instanceof Error ? err.message : err));
  }
  for (const wf of Object.values(config.workflows ?? {})) {
    for (const j of wf.jobs) {
      const name = typeof j === 'string' ? j : Object.keys(j as object)[0];
      const requires = typeof j === 'string' ? [] : (Object.values(j as object)[0]?.requires ?? []);
      for (const n of [name, ...requires]) if (!config.jobs?.[n as string]) errors.push(`unknown job ${n}`);
    }
  }
  return errors;
}

const plans: WorkflowPlan[] = [1, 2, 5].flatMap((shards) => [
  {
    shards,
    runs: 2,
    images: ['firmware'],
    offlinePins: [{ name: 'offline', dir: 'pins/offline' }],
    install: { kind: 'project' },
  },
  { shards, runs: 3, images: ['a', 'b'], offlinePins: [], install: { kind: 'global', version: '0.1.0' } },
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
  it('finds errors in broken configs (the validator works)', () => {
    const good = circleciConfig(plans[0]!);
    expect(circleciErrors(good.replace(/ {4}steps:/, '    stepz:')).length).toBeGreaterThan(0);
    for (const [from, to] of [
      ['when: always', 'when: sometimes'],
      ['- image: node:20-bookworm', '- imag: node:20-bookworm'],
      ['- setup_remote_docker', '- setup_remote_dockr'],
    ]) {
      expect(good).toContain(from);
      expect(circleciErrors(good.replace(from!, to!)).length, to).toBeGreaterThan(0);
    }
    expect(circleciErrors(good.replace('- images\n', '- imagez\n')).length).toBeGreaterThan(0);
  });
  it.each(plans.map((p) => [p.shards, p.install.kind, p]))(
    'accepts the generated config (%i shards, %s install)',
    (_s, _k, plan) => {
      expect(circleciErrors(circleciConfig(plan as WorkflowPlan))).toEqual([]);
    },
  );
});
