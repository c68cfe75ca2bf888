/**
 * Every `--json` output of every command that needs no engine, success and failure, from the
 * built CLI: each validates against its schema in schemas/output/, names its kind, says `ok`
 * exactly when the command exits 0, and carries `error` (with that exit code) otherwise; a
 * command that fails before its result (a usage or configuration error) still prints one
 * object on stdout. The commands that build are in test/integration/json-contract.test.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonKind } from '../../src/contracts/json.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { expectJsonOutput } from '../helpers/jsonContract.js';
import { type FakeRun, sha256Of, writeFakeRun } from '../helpers/runFolder.js';

let tmp = '';
const run = (over: Partial<FakeRun>): FakeRun => ({
  board: 'tiny',
  runId: 'r1',
  index: 1,
  artifact: 'rom.bin',
  bytes: 'same bytes',
  durationMs: 10,
  narHash: `sha256-${'A'.repeat(43)}=`,
  imageId: `sha256:${'1'.repeat(64)}`,
  sourceHash: 'sha256-src',
  ...over,
});

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'rr-json-'));
  await writeFakeRun(join(tmp, 'good/r1/tiny/1'), run({}));
  await writeFakeRun(join(tmp, 'good/r1/tiny/2'), run({ index: 2 }));
  await writeFakeRun(join(tmp, 'bad/r2/tiny/1'), run({ runId: 'r2' }));
  await writeFakeRun(join(tmp, 'bad/r2/tiny/2'), run({ runId: 'r2', index: 2, bytes: 'other bytes' }));
  await writeFile(join(tmp, 'a.txt'), `${sha256Of('x')}  rom.bin\n`);
  await writeFile(join(tmp, 'b.txt'), `${sha256Of('x')}  rom.bin\n`);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function expectOutput(kind: JsonKind, args: string[], exitCode: number) {
  const r = await runCli([...args, '--json']);
  expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(exitCode);
  return expectJsonOutput(kind, r);
}

describe('--json outputs that need no engine', () => {
  it('check: a valid workspace, then a broken one (its problems, with positions, in error)', async () => {
    const ok = await expectOutput('check', ['check'], 0);
    expect(ok['boards']).toContain('seabios-qemu');
    const bad = await expectOutput('check', ['check', '-w', 'test/fixtures/bad/dangling-image'], 2);
    expect(bad['error']).toMatchObject({ code: 'config', exitCode: 2 });
    expect((bad['error'] as { problems: unknown[] }).problems[0]).toMatchObject({
      file: expect.stringContaining('boards/'),
      line: expect.any(Number),
      col: expect.any(Number),
    });
  });

  it('compare: reproducible, mismatch, and inputs that do not exist', async () => {
    const same = await expectOutput('compare', ['compare', join(tmp, 'good/r1')], 0);
    expect(same['error']).toBeUndefined();
    const differ = await expectOutput('compare', ['compare', join(tmp, 'bad/r2')], 1);
    expect(differ['error']).toMatchObject({ code: 'mismatch', exitCode: 1 });
    const missing = await expectOutput(
      'compare',
      ['compare', join(tmp, 'nothing-here'), join(tmp, 'good/r1')],
      2,
    );
    expect(missing).toMatchObject({ ok: false, error: { code: 'usage', hint: expect.any(String) } });
  });

  it('compare keys hashes by board, artifact and run: never by a label made for a terminal', async () => {
    const differ = (await expectOutput('compare', ['compare', join(tmp, 'bad/r2')], 1)) as unknown as {
      inputs: Array<{ id: string; run: unknown }>;
      artifacts: Array<{ board: string; key: string; hashes: Record<string, string>; disagreeing: string[] }>;
      reports: Array<{ a: string; b: string }>;
    };
    expect(differ.inputs.map((i) => [i.id, i.run])).toEqual([
      ['r2/tiny#1', { id: 'r2', index: 1, machine: null }],
      ['r2/tiny#2', { id: 'r2', index: 2, machine: null }],
    ]);
    expect(differ.artifacts).toEqual([
      expect.objectContaining({
        board: 'tiny',
        key: 'rom.bin',
        hashes: { 'r2/tiny#1': sha256Of('same bytes'), 'r2/tiny#2': sha256Of('other bytes') },
        disagreeing: ['r2/tiny#2'],
      }),
    ]);
    expect(differ.reports.map((r) => [r.a, r.b])).toEqual([['r2/tiny#1', 'r2/tiny#2']]);
    // Files are keyed by their absolute path, wherever the command runs from.
    const files = (await expectOutput(
      'compare',
      ['compare', 'a.txt', join(tmp, 'b.txt')].map((a, i) => (i === 1 ? join(tmp, a) : a)),
      0,
    )) as unknown as { inputs: Array<{ id: string; label: string }>; artifacts: Array<{ hashes: object }> };
    const ids = files.inputs.map((i) => i.id);
    expect(ids).toEqual([resolve(tmp, 'a.txt'), resolve(tmp, 'b.txt')]);
    expect(Object.keys(files.artifacts[0]?.hashes ?? {})).toEqual(ids);
  });

  it('merge and report: written, then refused', async () => {
    const out = join(tmp, 'merged');
    const merged = await expectOutput('merge', ['merge', join(tmp, 'good/r1'), '--out', out], 0);
    expect(merged['runs']).toHaveLength(2);
    await expectOutput('merge', ['merge', join(tmp, 'nothing-here'), '--out', join(tmp, 'm2')], 2);
    await expectOutput('report', ['report', join(tmp, 'good/r1'), '--html', join(tmp, 'good.html')], 0);
    const differ = await expectOutput(
      'report',
      ['report', join(tmp, 'bad/r2'), '--html', join(tmp, 'bad.html')],
      1,
    );
    expect(differ['error']).toMatchObject({ code: 'mismatch' });
    await expectOutput('report', ['report', join(tmp, 'nothing-here'), '--html', join(tmp, 'x.html')], 2);
  });

  it('sign: a file signed with an OpenSSH key, then a key that does not exist', async () => {
    const key = join(tmp, 'id_ed25519');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'json', '-f', key]);
    const signed = await expectOutput('sign', ['sign', join(tmp, 'a.txt'), '--key', key], 0);
    expect(signed['signatures']).toEqual([`${join(tmp, 'a.txt')}.sig`]);
    await expectOutput('sign', ['sign', join(tmp, 'nothing-here'), '--key', key], 2);
  });

  it.each<[JsonKind, string[]]>([
    ['build', ['build']],
    ['build', ['build', 'no-such-board']],
    ['build', ['build', 'seabios-qemu', '--runs', '0']],
    ['boot', ['boot', 'no-such-board']],
    ['image-build', ['image', 'build', 'no-such-image']],
    ['pin-lock', ['pin', 'lock', 'Not A Name']],
    ['pin-verify', ['pin', 'verify', 'no-such-pin']],
    ['pin-fetch', ['pin', 'fetch', 'nixpkgs']],
    ['release-result', ['release', 'seabios-qemu']],
    ['release-result', ['release', 'no-such-board', '--out', '/nonexistent/rr-release']],
    ['verify', ['verify', '/nonexistent/rr-release']],
    ['compare', ['compare', '--bogus-flag', 'x']],
  ])('%s fails before its result (%j): one failure object on stdout, exit 2', async (kind, args) => {
    const r = await runCli([...args, '--json'], { cwd: repoRoot });
    expect(r.exitCode, r.stderr).toBe(2);
    const out = expectJsonOutput(kind, r);
    expect(Object.keys(out).sort()).toEqual(['error', 'ok', 'schema']);
    expect(out['error']).toMatchObject({ message: expect.stringMatching(/\S/) });
    // The person reading stderr still gets the message.
    expect(r.stderr).not.toBe('');
  });
});
