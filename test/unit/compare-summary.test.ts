/**
 * One summary line per comparison: `compare` (plain and --allow-expected), `build` and the
 * reports all print the sentence of compare/summary.ts, once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCompare } from '../../src/cli/commands/compare.js';
import { summaryLine, type VerdictCounts } from '../../src/compare/summary.js';
import { repoRoot } from '../helpers/cli.js';
import { writeFakeRun } from '../helpers/runFolder.js';

const counts = (c: Partial<VerdictCounts>): VerdictCounts => ({
  total: 0,
  reproducible: 0,
  expected: 0,
  mismatch: 0,
  missing: 0,
  singleRun: 0,
  inputs: 2,
  unrelated: [],
  ...c,
});

describe('summaryLine', () => {
  it('names only the kinds that occur, the reproducible count always', () => {
    expect(summaryLine(counts({ total: 5, reproducible: 2, mismatch: 3 }))).toBe(
      'NOT reproducible: 2 reproducible, 3 mismatch',
    );
    expect(summaryLine(counts({ total: 3, reproducible: 0, missing: 1, singleRun: 2 }))).toBe(
      'NOT reproducible: 0 reproducible, 1 missing, 2 single-run',
    );
    expect(summaryLine(counts({ total: 1, reproducible: 1 }))).toBe(
      'reproducible: 1 artifact identical across 2 inputs',
    );
    expect(summaryLine(counts({ total: 3, reproducible: 2, expected: 1 }))).toBe(
      'reproducible except as expected: 2 reproducible, 1 expected mismatch (3 artifacts)',
    );
    expect(summaryLine(counts({}))).toBe('NOT verified: no artifacts to compare');
    expect(summaryLine(counts({ total: 2, reproducible: 2, unrelated: ['a', 'b'] }))).toMatch(
      /^NOT verified: nothing in common/,
    );
  });
});

describe('compare prints one summary line', () => {
  let root = '';
  let stdout = '';
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'rr-summary-'));
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

  async function runs(boards: Record<string, [string, string]>): Promise<string> {
    for (const [board, bytes] of Object.entries(boards))
      for (const [i, b] of bytes.entries())
        await writeFakeRun(join(root, 'run', board, String(i + 1)), {
          board,
          runId: 'RUN',
          index: i + 1,
          artifact: 'bios.bin',
          bytes: b,
          durationMs: 1000,
          narHash: `sha256-${'Q'.repeat(43)}=`,
          imageId: `sha256:${'c'.repeat(64)}`,
          sourceHash: 'h',
        });
    return join(root, 'run');
  }
  const summaries = () => stdout.split('\n').filter((l) => /^(NOT )?(reproducible|verified)\b/.test(l));

  const boards = {
    'seabios-qemu': ['same', 'other'],
    'coreboot-qemu': ['same', 'same'],
    'seabios-qemu-naive': ['stamp 1', 'stamp 2'],
  } satisfies Record<string, [string, string]>;

  it('plain compare: one line', async () => {
    expect(await runCompare([await runs(boards)], { diffoscope: null })).toBe(1);
    expect(summaries()).toEqual(['NOT reproducible: 1 reproducible, 2 mismatch']);
  });

  it('compare --allow-expected: one line, the judgement with the declared mismatch excused', async () => {
    const dir = await runs(boards);
    expect(await runCompare([dir], { diffoscope: null, allowExpected: true, workspace: repoRoot })).toBe(1);
    expect(summaries()).toEqual(['NOT reproducible: 1 reproducible, 1 expected mismatch, 1 mismatch']);
  });
});
