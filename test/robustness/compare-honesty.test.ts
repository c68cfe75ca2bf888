/**
 * `compare` says one thing, and only compares what is worth comparing (issue 31, item 5):
 * with --allow-expected one closing verdict (never "NOT reproducible" and then "reproducible
 * except as expected"), and run folders built from different sources or commands are refused as
 * `merge` refuses them (the same check), whatever their bytes. Run folders are written by the
 * real manifest writer; the CLI runs from dist/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { type FakeRun, writeFakeRun } from '../helpers/runFolder.js';
import { expectNoStack } from './support.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});
async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'rr-compare-honesty-'));
  temps.push(d);
  return d;
}

const RUN: Omit<FakeRun, 'board' | 'runId' | 'index' | 'bytes'> = {
  artifact: 'bios.bin',
  durationMs: 1000,
  narHash: `sha256-${'Q'.repeat(43)}=`,
  imageId: `sha256:${'c'.repeat(64)}`,
  sourceHash: 'h',
};

/** A run folder RUN/BOARD/1..n, one run per entry of `bytes`. */
async function runFolder(
  root: string,
  runId: string,
  board: string,
  bytes: string[],
  extra: Partial<FakeRun> = {},
): Promise<string> {
  const dir = join(root, runId);
  for (const [i, b] of bytes.entries())
    await writeFakeRun(join(dir, board, String(i + 1)), {
      ...RUN,
      board,
      runId,
      index: i + 1,
      bytes: b,
      ...extra,
    });
  return dir;
}

describe('compare: one verdict, and only runs worth comparing', () => {
  it('--allow-expected prints one closing verdict: "reproducible except as expected", never "NOT reproducible" before it', async () => {
    const root = await scratch();
    // The default workspace declares seabios-qemu-naive expected to mismatch.
    const run = await runFolder(root, 'RUN-X', 'seabios-qemu-naive', ['stamp 1', 'stamp 2']);
    const r = await runCli(['compare', run, '--allow-expected', '-w', repoRoot]);
    expectNoStack(r.stderr);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/NOT reproducible/);
    expect(r.stdout).toMatch(/^expected mismatch: seabios-qemu-naive is declared not reproducible yet/m);
    const verdicts = r.stdout.split('\n').filter((l) => /^(NOT )?(reproducible|verified)\b|^NOT /.test(l));
    expect(verdicts).toEqual([
      'reproducible except as expected: 0 reproducible, 1 expected mismatch (1 artifact)',
    ]);
    // The last line is the verdict.
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(verdicts[0]);
  });

  it.each([
    ['sources', { sourceHash: 'other-tree' }, /has source local h, but .* has local other-tree/],
    ['commands', { commands: ['make EVIL=1'] }, /has commands \["make"\], but .* has \["make EVIL=1"\]/],
  ] as const)(
    'two run folders built from different %s, with equal bytes: exit 2 "the inputs differ", as merge refuses the same pair',
    async (_what, differ, detail) => {
      const root = await scratch();
      const a = await runFolder(root, 'RUN-A', 'alpha', ['same'], { machine: 'm1' });
      const b = await runFolder(root, 'RUN-B', 'alpha', ['same'], { machine: 'm2', ...differ });
      const compared = await runCli(['compare', a, b]);
      expectNoStack(compared.stderr);
      expect(compared.exitCode, compared.stdout).toBe(2);
      expect(compared.stdout).not.toMatch(/reproducible/);
      expect(compared.stderr).toMatch(
        /^reprorom: the inputs differ: runs of board alpha were built from different inputs \(conflicting manifests\): RUN-A\/alpha#1@m1 \(.*\) has /m,
      );
      expect(compared.stderr).toMatch(detail);
      const asJson = await runCli(['compare', a, b, '--json']);
      expect(asJson.exitCode).toBe(2);
      expect(asJson.stdout).not.toMatch(/"ok": true/);
      // merge refuses the same pair with the same words: one check, two commands.
      const merged = await runCli(['merge', a, b, '--out', join(root, 'merged')]);
      expect(merged.exitCode).toBe(2);
      expect(merged.stderr).toMatch(
        /^reprorom: the inputs differ: runs of board alpha were built from different inputs/m,
      );
      expect(merged.stderr).toMatch(detail);
    },
  );

  it('runs built from the same inputs on two machines still compare (reproducible, exit 0)', async () => {
    const root = await scratch();
    const a = await runFolder(root, 'RUN-A', 'alpha', ['same'], { machine: 'm1' });
    const b = await runFolder(root, 'RUN-B', 'alpha', ['same'], { machine: 'm2' });
    const r = await runCli(['compare', a, b]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^reproducible/m);
  });
});
