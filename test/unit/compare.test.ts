import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCompare } from '../../src/cli/commands/compare.js';
import { allArtifacts, compareSets, verdictFor } from '../../src/compare/compare.js';
import { loadInputs } from '../../src/compare/inputs.js';
import { ConfigError, ExitCode, UsageError } from '../../src/util/errors.js';
import { makeRun } from '../fixtures/hashes/makeRun.js';

const HEADS = new URL('../fixtures/hashes/heads-x230.hashes.txt', import.meta.url).pathname;
const ROM = 'heads-x230-hotp-maximized-v0.2.1.rom';

let root: string;
let out: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'rr-compare-'));
  out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(root, { recursive: true, force: true });
});

interface JsonResult {
  ok: boolean;
  artifacts: Array<{
    name: string;
    verdict: string;
    hashes: Record<string, string | null>;
    disagreeing: string[];
  }>;
  notes: string[];
  reports: Array<{ artifact: string; text: string; tool: string }>;
}
const json = () => JSON.parse(out) as JsonResult;

describe('verdictFor', () => {
  it('names the minority of a 3-way mismatch', () => {
    const v = verdictFor([
      ['a', 'h1'],
      ['b', 'h2'],
      ['c', 'h1'],
    ]);
    expect(v).toEqual({ verdict: 'mismatch', disagreeing: ['b'], majority: 'h1' });
  });
  it('never calls one copy reproducible', () => {
    expect(verdictFor([['a', 'h1']]).verdict).toBe('single-run');
    expect(
      verdictFor([
        ['a', 'h1'],
        ['b', null],
      ]).verdict,
    ).toBe('single-run');
  });
  it('reports missing when two agree and one lacks it', () => {
    expect(
      verdictFor([
        ['a', 'h1'],
        ['b', null],
        ['c', 'h1'],
      ]),
    ).toEqual({ verdict: 'missing', disagreeing: ['b'], majority: 'h1' });
  });
});

describe('reprorom compare', () => {
  it('passes a run folder whose 3 runs are identical', async () => {
    for (const index of [1, 2, 3])
      await makeRun(root, { index, files: { 'bios.bin': 'same bytes', 'vgabios.bin': 'vga' } });
    expect(await runCompare([root], { json: true })).toBe(ExitCode.ok);
    const r = json();
    expect(r.ok).toBe(true);
    expect(r.artifacts.map((a) => [a.name, a.verdict])).toEqual([
      ['bios.bin', 'reproducible'],
      ['vgabios.bin', 'reproducible'],
    ]);
    expect(Object.keys(r.artifacts[0]?.hashes ?? {})).toEqual([
      'run1/seabios#1',
      'run1/seabios#2',
      'run1/seabios#3',
    ]);
  });

  it('names the one tampered input of three', async () => {
    const a = await makeRun(join(root, 'a'), { index: 1, machine: 'alice', files: { 'bios.bin': 'good' } });
    const b = await makeRun(join(root, 'b'), { index: 1, machine: 'bob', files: { 'bios.bin': 'EVIL' } });
    const c = await makeRun(join(root, 'c'), { index: 1, machine: 'carol', files: { 'bios.bin': 'good' } });
    expect(await runCompare([a, b, c], { json: true, diffoscope: null })).toBe(ExitCode.mismatch);
    const [bios] = json().artifacts;
    expect(bios?.verdict).toBe('mismatch');
    expect(bios?.disagreeing).toEqual(['run1/seabios#1@bob']);
    expect(bios?.hashes['run1/seabios#1@bob']).not.toBe(bios?.hashes['run1/seabios#1@alice']);
  });

  it('prints an aligned text table naming the disagreeing input', async () => {
    for (const [index, data] of [
      [1, 'x'],
      [2, 'x'],
      [3, 'y'],
    ] as const)
      await makeRun(root, { index, files: { 'bios.bin': data } });
    expect(await runCompare([root], { diffoscope: null })).toBe(ExitCode.mismatch);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(
      /^ARTIFACT {2}VERDICT {3}run1\/seabios#1 {2}run1\/seabios#2 {2}run1\/seabios#3$/,
    );
    expect(lines[1]).toMatch(/^bios\.bin {2}mismatch {2}[0-9a-f]{12} +[0-9a-f]{12} +[0-9a-f]{12}!$/);
    // Every column starts where its header starts.
    const starts = (l: string) => [...l.matchAll(/(?<=^| {2})\S/g)].map((m) => m.index);
    expect(starts(lines[1] ?? '')).toEqual(starts(lines[0] ?? ''));
    expect(out).toContain('disagrees: run1/seabios#3 has ');
    expect(out).toContain('NOT reproducible: 0 reproducible, 1 mismatch');
    expect(out).not.toContain('\u001b[');
  });

  it('never reports a single run as reproducible', async () => {
    await makeRun(root, { index: 1, files: { 'bios.bin': 'only once' } });
    expect(await runCompare([root], { json: true })).toBe(ExitCode.mismatch);
    const r = json();
    expect(r.ok).toBe(false);
    expect(r.artifacts[0]?.verdict).toBe('single-run');
    expect(r.notes.join('\n')).toMatch(/only one run/);
  });

  it('reports an artifact absent from one run as missing', async () => {
    await makeRun(root, { index: 1, files: { 'bios.bin': 'b', 'extra.bin': 'e' } });
    await makeRun(root, { index: 2, files: { 'bios.bin': 'b' } });
    await makeRun(root, { index: 3, files: { 'bios.bin': 'b', 'extra.bin': 'e' } });
    expect(await runCompare([root], { json: true })).toBe(ExitCode.mismatch);
    const extra = json().artifacts.find((a) => a.name === 'extra.bin');
    expect(extra).toMatchObject({ verdict: 'missing', disagreeing: ['run1/seabios#2'] });
    expect(extra?.hashes['run1/seabios#2']).toBeNull();
  });

  it('catches an artifact edited after its manifest was written', async () => {
    await makeRun(root, { index: 1, files: { 'bios.bin': 'b' } });
    const two = await makeRun(root, { index: 2, files: { 'bios.bin': 'b' } });
    await writeFile(join(two, 'artifacts/bios.bin'), 'B');
    expect(await runCompare([root], { json: true, diffoscope: null })).toBe(ExitCode.mismatch);
    const r = json();
    expect(r.artifacts[0]).toMatchObject({ verdict: 'mismatch', disagreeing: ['run1/seabios#2'] });
    expect(r.notes.join('\n')).toMatch(/file on disk has sha256 .* but .* was recorded/);
  });

  it('matches a Heads hashes.txt against a reprorom run by file name', async () => {
    const run = await makeRun(root, { board: 'x230', index: 1, files: { [ROM]: 'rom-v0.2.1' } });
    expect(await runCompare([HEADS, run], { json: true })).toBe(ExitCode.ok);
    const r = json();
    expect(r.artifacts).toHaveLength(1);
    expect(r.artifacts[0]).toMatchObject({ name: ROM, verdict: 'reproducible' });
    expect(r.notes.join('\n')).toMatch(
      /3 listed file\(s\) that no reprorom input declares were not compared/,
    );
    expect(r.notes.join('\n')).toMatch(/commit 3f2a9c1 \(clean\)/);
  });

  it('names the Heads input when its ROM differs from the reprorom build', async () => {
    const one = await makeRun(root, { board: 'x230', index: 1, files: { [ROM]: 'rebuilt' } });
    const two = await makeRun(root, { board: 'x230', index: 2, files: { [ROM]: 'rebuilt' } });
    expect(await runCompare([one, two, HEADS], { json: true, diffoscope: null })).toBe(ExitCode.mismatch);
    const r = json();
    expect(r.artifacts[0]?.verdict).toBe('mismatch');
    expect(r.artifacts[0]?.disagreeing).toHaveLength(1);
    expect(r.artifacts[0]?.disagreeing[0]).toMatch(/heads-x230\.hashes\.txt$/);
    // The Heads side has no local file: no report, and a note says why.
    expect(r.reports).toEqual([]);
    expect(r.notes.join('\n')).toMatch(/no local copies/);
  });

  it('compares each board only with itself in a multi-board run folder', async () => {
    for (const index of [1, 2]) {
      await makeRun(root, { board: 'seabios', index, files: { 'bios.bin': 's' } });
      await makeRun(root, { board: 'uboot', index, files: { 'bios.bin': 'u' } });
    }
    const c = compareSets(await loadInputs([root]));
    expect(c.ok).toBe(true);
    expect(allArtifacts(c).map((a) => [a.name, a.verdict, Object.keys(a.hashes).length])).toEqual([
      ['seabios/bios.bin', 'reproducible', 2],
      ['uboot/bios.bin', 'reproducible', 2],
    ]);
  });

  it('writes a diff report beside the first manifest that shows both version strings', async () => {
    const blob = (v: string) =>
      Buffer.concat([
        Buffer.alloc(4096, 0x90),
        Buffer.from(`\0SeaBIOS (version ${v})\0`),
        Buffer.alloc(4096, 0xff),
      ]);
    const one = await makeRun(root, {
      index: 1,
      files: { 'bios.bin': blob('1.16.2-20251122_104501-hostname') },
    });
    await makeRun(root, { index: 2, files: { 'bios.bin': blob('1.16.2-20251123_091500-otherhost') } });
    expect(await runCompare([root], { diffoscope: null })).toBe(ExitCode.mismatch);
    const report = join(one, 'diff', 'bios.bin.txt');
    const text = await readFile(report, 'utf8');
    expect(text).toContain('SeaBIOS (version 1.16.2-20251122_104501-hostname)');
    expect(text).toContain('SeaBIOS (version 1.16.2-20251123_091500-otherhost)');
    expect(text).toMatch(/first difference at offset 4128 \(0x1020\): A has 0x32, B has 0x33/);
    expect(out).toContain('report: ');
    expect(out).toContain('bios.bin.txt');
    expect(out).toContain('1.16.2-20251123_091500-otherhost');
  });

  it('honours --report DIR', async () => {
    await makeRun(root, { index: 1, files: { 'bios.bin': 'version-aaaaaa' } });
    await makeRun(root, { index: 2, files: { 'bios.bin': 'version-bbbbbb' } });
    const dir = join(root, 'my-reports');
    expect(await runCompare([root], { json: true, report: dir, diffoscope: null })).toBe(ExitCode.mismatch);
    expect(json().reports[0]).toMatchObject({
      artifact: 'bios.bin',
      tool: 'builtin',
      text: join(dir, 'bios.bin.txt'),
    });
    expect(await readFile(join(dir, 'bios.bin.txt'), 'utf8')).toContain('"version-bbbbbb"');
  });

  it('refuses a run folder whose hashes.txt disagrees with its manifest (exit 2, located)', async () => {
    const dir = await makeRun(root, { index: 1, files: { 'bios.bin': 'b' } });
    await makeRun(root, { index: 2, files: { 'bios.bin': 'b' } });
    await writeFile(join(dir, 'hashes.txt'), `${'0'.repeat(64)}  artifacts/bios.bin\n`);
    const err = await runCompare([root], {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(ExitCode.config);
    expect((err as ConfigError).message).toMatch(
      /hashes\.txt:1:1: sha256 of "artifacts\/bios\.bin" differs from manifest\.json/,
    );
  });

  it('refuses inputs that do not exist or hold no run', async () => {
    await expect(runCompare([join(root, 'nope')], {})).rejects.toBeInstanceOf(UsageError);
    await expect(runCompare([root], {})).rejects.toThrow(/no manifest\.json or hashes\.txt found/);
  });

  it('reads a bare reprorom hashes.txt with no manifest beside it', async () => {
    const h = `${'a'.repeat(64)}  artifacts/bios.bin\n`;
    await writeFile(join(root, 'mine.txt'), h);
    await writeFile(join(root, 'theirs.txt'), h);
    expect(await runCompare([join(root, 'mine.txt'), join(root, 'theirs.txt')], { json: true })).toBe(
      ExitCode.ok,
    );
    expect(json().artifacts[0]?.name).toBe('bios.bin');
  });
});
