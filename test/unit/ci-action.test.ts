/**
 * The composite action (action.yml), its steps run in bash as GitHub runs them,
 * against a stand-in reprorom: inputs become the build's arguments (never shell
 * text), the verdict and run folder come out as outputs, published hashes are
 * compared, and the action installs reprorom only when its checkout is not built.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAction, runActionStep } from '../helpers/action.js';

let root = '';
let actionPath = '';
let ws = '';
const calls = () =>
  readFile(join(root, 'calls.jsonl'), 'utf8').then((t) =>
    t
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
  );

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rr-ci-action-'));
  actionPath = join(root, 'action');
  ws = join(root, 'repo');
  await mkdir(join(actionPath, 'bin'), { recursive: true });
  await mkdir(join(actionPath, 'dist', 'bundle'), { recursive: true });
  await writeFile(join(actionPath, 'dist', 'bundle', 'main.js'), '');
  await mkdir(ws);
  // Stand-in reprorom: records its arguments; `build` adds a run folder and exits with FAKE_BUILD.
  await writeFile(
    join(actionPath, 'bin', 'reprorom.js'),
    `import { appendFileSync, mkdirSync } from 'node:fs';
const args = process.argv.slice(2);
appendFileSync(${JSON.stringify(join(root, 'calls.jsonl'))}, JSON.stringify(args) + '\\n');
if (args[0] === 'build') {
  const w = args[args.indexOf('-w') + 1];
  mkdirSync(w + '/.reprorom/runs/20261202-1300' + String(Math.random()).slice(2, 6) + '-abcdef', { recursive: true });
  process.exit(Number(process.env.FAKE_BUILD ?? 0));
}
process.exit(Number(process.env.FAKE_COMPARE ?? 0));
`,
  );
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const build = (withInputs: Record<string, string>, env: Record<string, string> = {}) =>
  runActionStep('build', {
    cwd: ws,
    actionPath,
    with: { workspace: ws, ...withInputs },
    env: { PATH: process.env['PATH'] ?? '', ...env },
  });

describe('reprorom composite action', () => {
  it('builds every board by default, twice, and reports reproducible with the run folder', async () => {
    await writeFile(join(root, 'calls.jsonl'), '');
    const r = await build({});
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await calls()).toEqual([['build', '-w', ws, '--runs', '2', '--jobs', '1', '--all']]);
    expect(r.outputs['verdict']).toBe('reproducible');
    expect(r.outputs['run-folder']).toMatch(new RegExp(`^${ws}/\\.reprorom/runs/20261202-1300\\d+-abcdef$`));
    expect(r.stdout).toContain('reprorom: reproducible');
  });

  it('passes boards, runs, shard, jobs, machine and junit as arguments, never as shell text', async () => {
    await writeFile(join(root, 'calls.jsonl'), '');
    const r = await build({
      boards: 'alpha bravo$(touch pwned)',
      runs: '3',
      shard: '2/4',
      jobs: '2',
      machine: 'ci-shard-2',
      junit: 'shard/junit.xml',
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await calls()).toEqual([
      [
        'build',
        '-w',
        ws,
        '--runs',
        '3',
        '--jobs',
        '2',
        'alpha',
        'bravo$(touch',
        'pwned)',
        '--shard',
        '2/4',
        '--machine',
        'ci-shard-2',
        '--junit',
        'shard/junit.xml',
      ],
    ]);
    await expect(readFile(join(ws, 'pwned'))).rejects.toThrow();
  });

  it.each([
    ['1', 'mismatch'],
    ['4', 'build-failed'],
    ['3', 'error'],
  ])('a build exiting %s fails the step with that status and reports %s', async (code, verdict) => {
    const r = await build({}, { FAKE_BUILD: code });
    expect(r.exitCode).toBe(Number(code));
    expect(r.outputs['verdict']).toBe(verdict);
    expect(r.outputs['run-folder']).toContain('/.reprorom/runs/');
  });

  it('compares the run folder against published hashes; a mismatch there is the verdict', async () => {
    await writeFile(join(root, 'calls.jsonl'), '');
    const ok = await build({ 'published-hashes': 'release/hashes.txt' });
    expect(ok.exitCode, ok.stderr).toBe(0);
    const [, compare] = await calls();
    expect(compare).toEqual(['compare', ok.outputs['run-folder'], 'release/hashes.txt']);
    const bad = await build({ 'published-hashes': 'release/hashes.txt' }, { FAKE_COMPARE: '1' });
    expect(bad.exitCode).toBe(1);
    expect(bad.outputs['verdict']).toBe('mismatch');
    // A failed build is not compared against anything.
    await writeFile(join(root, 'calls.jsonl'), '');
    await build({ 'published-hashes': 'release/hashes.txt' }, { FAKE_BUILD: '4' });
    expect((await calls()).map((c: string[]) => c[0])).toEqual(['build']);
  });

  it('installs reprorom (npm ci in the action) only when the checkout is not built yet', async () => {
    const bin = join(root, 'fakebin');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'npm'), `#!/bin/sh\necho "npm $* in $PWD" >> ${join(root, 'npm.log')}\n`);
    await chmod(join(bin, 'npm'), 0o755);
    await writeFile(join(root, 'npm.log'), '');
    const env = { PATH: `${bin}:${process.env['PATH']}` };
    const step = (await loadAction()).runs.steps[0]!;
    expect(step.name).toMatch(/^Install reprorom/);
    const install = () => runActionStep('install', { cwd: ws, actionPath, env });
    expect((await install()).exitCode).toBe(0);
    expect(await readFile(join(root, 'npm.log'), 'utf8')).toBe('');
    await rm(join(actionPath, 'dist'), { recursive: true });
    expect((await install()).exitCode).toBe(0);
    expect(await readFile(join(root, 'npm.log'), 'utf8')).toBe(
      `npm ci --no-audit --no-fund in ${actionPath}\n`,
    );
  });
});
