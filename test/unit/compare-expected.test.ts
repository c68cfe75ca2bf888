/**
 * The generated workflow's last job runs `compare merged --allow-expected` in the workspace:
 * it passes on a healthy tree (the naive SeaBIOS's declared mismatch is expected) and still
 * fails on any other mismatch. Without --allow-expected nothing is excused.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { compareScript } from '../../src/ci/generate.js';
import { runCompare } from '../../src/cli/commands/compare.js';
import { mergeRuns } from '../../src/merge/merge.js';
import { repoRoot } from '../helpers/cli.js';
import { writeFakeRun } from '../helpers/runFolder.js';

let root = '';
let stdout = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'rr-expected-'));
  stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(root, { recursive: true, force: true });
});

async function shard(name: string, boards: Record<string, [string, string]>): Promise<void> {
  for (const [board, bytes] of Object.entries(boards)) {
    for (const [i, b] of bytes.entries()) {
      await writeFakeRun(join(root, name, board, String(i + 1)), {
        board,
        runId: `RUN-${name}`,
        index: i + 1,
        machine: name,
        artifact: 'bios.bin',
        bytes: b,
        durationMs: 1000,
        narHash: `sha256-${'Q'.repeat(43)}=`,
        imageId: `sha256:${'c'.repeat(64)}`,
        sourceHash: 'h',
      });
    }
  }
}

const compareMerged = (allowExpected: boolean) =>
  runCompare([join(root, 'merged')], { workspace: repoRoot, allowExpected, diffoscope: null });

describe('compare --allow-expected (the generated workflow)', () => {
  it('the generated workflow compares with --allow-expected', () => {
    const script = compareScript({ install: { kind: 'project' } } as never, 'shards/*');
    expect(script).toMatch(/compare merged --allow-expected /);
  });

  it('a healthy tree passes: the declared naive board differs, the rest agrees', async () => {
    await shard('s1', { 'seabios-qemu': ['same', 'same'] });
    await shard('s2', { 'seabios-qemu-naive': ['stamp 1', 'stamp 2'] });
    await mergeRuns([join(root, 's1'), join(root, 's2')], join(root, 'merged'));
    expect(await compareMerged(true)).toBe(0);
    expect(stdout).toMatch(
      /expected mismatch: seabios-qemu-naive is declared not reproducible yet \(plain make stamps/,
    );
    expect(stdout).toMatch(/reproducible except as expected: 1 reproducible, 1 expected mismatch/);
    stdout = '';
    // Without the flag (or against published hashes) nothing is excused.
    expect(await compareMerged(false)).toBe(1);
  });

  it('any other mismatch still fails', async () => {
    await shard('s1', { 'seabios-qemu': ['same', 'different'] });
    await shard('s2', { 'seabios-qemu-naive': ['stamp 1', 'stamp 2'] });
    await mergeRuns([join(root, 's1'), join(root, 's2')], join(root, 'merged'));
    expect(await compareMerged(true)).toBe(1);
    expect(stdout).toMatch(/NOT reproducible: 0 reproducible, 1 expected mismatch, 1 mismatch/);
  });
});
