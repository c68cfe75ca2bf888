/**
 * Hostile compare inputs (manifests and hashes.txt files): each gives one located
 * line and exit 2, never a stack trace. With the 45 committed and 4 generated
 * workspace cases of test/unit/check-corpus.test.ts this makes the corpus of
 * hostile input at least 60 cases.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';

const dir = join(repoRoot, 'test/fixtures/hostile');
const cases = (await readdir(dir)).sort();
const workspaceCases = (await readdir(join(repoRoot, 'test/fixtures/bad'))).length;

describe('hostile compare inputs', () => {
  it('with the workspace corpus, at least 60 hostile cases', () => {
    expect(cases.length + workspaceCases + 4).toBeGreaterThanOrEqual(60);
  });

  it.each(cases)('%s: one located line, exit 2, no stack trace', async (name) => {
    const files = (await readdir(join(dir, name))).filter((f) => f !== 'expected.txt');
    const expected = (await readFile(join(dir, name, 'expected.txt'), 'utf8')).split('\n').filter(Boolean);
    const r = await runCli(['compare', files[0]!, files[0]!], { cwd: join(dir, name) });
    expect(r.exitCode).toBe(2);
    // Paths print absolute for some inputs: compare them relative to the case folder.
    const lines = r.stderr
      .split('\n')
      .filter((l) => l && !l.startsWith('  →'))
      .map((l) => l.replace(`${join(dir, name)}/`, ''));
    expect(lines).toEqual(expected);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^reprorom: [^:]+:\d+:\d+: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
