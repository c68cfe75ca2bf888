/**
 * The generated GitHub workflow checked by GitHub's own workflow parser and schema
 * (@actions/workflow-parser, what the Actions language server uses).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { describe, expect, it } from 'vitest';
import { githubWorkflow } from '../../src/ci/workflows.js';
import { repoRoot } from '../helpers/cli.js';

const errorsOf = (content: string) =>
  parseWorkflow({ name: 'workflow.yml', content }, new NoOperationTraceWriter())
    .context.errors.getErrors()
    .map((e) => e.message);

describe("GitHub's workflow schema", () => {
  it('finds errors in a broken workflow (the validator works)', () => {
    expect(
      errorsOf('on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n').length,
    ).toBeGreaterThan(0);
  });
  it.each([1, 2, 5])('accepts the generated workflow with %i shards', (shards) => {
    expect(
      errorsOf(githubWorkflow({ shards, images: ['firmware'], offlinePins: ['offline'], runs: 2 })),
    ).toEqual([]);
  });
  it.each(['reprorom.yml', 'ci.yml'])("accepts this repository's .github/workflows/%s", async (file) => {
    expect(errorsOf(await readFile(join(repoRoot, '.github/workflows', file), 'utf8'))).toEqual([]);
  });
});
