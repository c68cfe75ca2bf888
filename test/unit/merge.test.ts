/** `reprorom merge`: shards' run folders become one, renumbered, with their machines; conflicts are refused. */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allArtifacts, compareSets } from '../../src/compare/compare.js';
import { loadInputs } from '../../src/compare/inputs.js';
import { mergedLog, mergeRuns } from '../../src/merge/merge.js';
import { writeFakeRun } from '../helpers/runFolder.js';

let root = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'rr-merge-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const NAR = `sha256-${'A'.repeat(43)}=`;

interface RunSpec {
  board: string;
  index: number;
  machine?: string;
  bytes?: string;
  narHash?: string;
  imageId?: string;
}

/** A run folder as `reprorom build` leaves it: BOARD/N/{artifacts, hashes.txt, manifest.json} and BOARD.log. */
async function runFolder(name: string, runId: string, specs: RunSpec[]): Promise<string> {
  const dir = join(root, name);
  for (const s of specs) {
    const out = join(dir, s.board, String(s.index));
    const bytes = s.bytes ?? `rom of ${s.board}\n`;
    await writeFakeRun(out, {
      board: s.board,
      runId,
      index: s.index,
      ...(s.machine ? { machine: s.machine } : {}),
      artifact: `${s.board}.rom`,
      bytes,
      durationMs: 1000,
      narHash: s.narHash ?? NAR,
      imageId: `sha256:${s.imageId ?? 'a'.repeat(64)}`,
      sourceHash: 'h1',
      hashesTxt: true,
    });
    await writeFile(join(dir, `${s.board}.log`), `log of ${s.board} on ${s.machine ?? '?'}\n`, { flag: 'a' });
  }
  return dir;
}

const two = (board: string, machine?: string, extra: Partial<RunSpec> = {}): RunSpec[] => [
  { board, index: 1, ...(machine ? { machine } : {}), ...extra },
  { board, index: 2, ...(machine ? { machine } : {}), ...extra },
];

const tree = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();

describe('mergeRuns', () => {
  it('copies every shard board run, keeps manifests byte for byte, and the logs', async () => {
    const s1 = await runFolder('s1', 'RUN-1', [...two('alpha', 'ci-shard-1'), ...two('bravo', 'ci-shard-1')]);
    const s2 = await runFolder('s2', 'RUN-2', two('charlie', 'ci-shard-2'));
    const out = join(root, 'merged');
    const r = await mergeRuns([s1, s2], out);
    expect(r.runs.map((x) => `${x.board}#${x.index}@${x.machine}`)).toEqual([
      'alpha#1@ci-shard-1',
      'alpha#2@ci-shard-1',
      'bravo#1@ci-shard-1',
      'bravo#2@ci-shard-1',
      'charlie#1@ci-shard-2',
      'charlie#2@ci-shard-2',
    ]);
    expect(await readFile(join(out, 'charlie/2/manifest.json'), 'utf8')).toBe(
      await readFile(join(s2, 'charlie/2/manifest.json'), 'utf8'),
    );
    expect(await tree(out)).toContain('logs/RUN-2@ci-shard-2/charlie.log');
    expect(await mergedLog(out, 'charlie', 1)).toBe(join(out, 'logs/RUN-2@ci-shard-2/charlie.log'));
    expect(await readFile((await mergedLog(out, 'alpha', 2))!, 'utf8')).toContain(
      'log of alpha on ci-shard-1',
    );
    // One compare over the merged folder: every board, every run, labelled with its machine.
    const c = compareSets(await loadInputs([out]));
    expect(c.ok).toBe(true);
    expect(c.inputs.map((i) => i.label)).toEqual([
      'RUN-1/alpha#1@ci-shard-1',
      'RUN-1/alpha#2@ci-shard-1',
      'RUN-1/bravo#1@ci-shard-1',
      'RUN-1/bravo#2@ci-shard-1',
      'RUN-2/charlie#1@ci-shard-2',
      'RUN-2/charlie#2@ci-shard-2',
    ]);
  });

  it('renumbers runs of the same board from several machines without collisions, whatever the argument order', async () => {
    const a = await runFolder('a', 'RUN-A', two('alpha', 'm1'));
    const b = await runFolder('b', 'RUN-B', two('alpha', 'm2'));
    const x = await mergeRuns([a, b], join(root, 'x'));
    const y = await mergeRuns([b, a], join(root, 'y'));
    expect(x.runs.map((r) => [r.index, r.machine, r.originalIndex])).toEqual([
      [1, 'm1', 1],
      [2, 'm1', 2],
      [3, 'm2', 1],
      [4, 'm2', 2],
    ]);
    expect(y.runs.map((r) => [r.index, r.machine])).toEqual(x.runs.map((r) => [r.index, r.machine]));
    expect(await tree(join(root, 'x'))).toEqual(await tree(join(root, 'y')));
    expect(await readFile(join(root, 'y/alpha/3/manifest.json'), 'utf8')).toContain('"machine": "m2"');
  });

  it('a tampered run on one machine is named, with its machine, by the comparison of the merged folder', async () => {
    const a = await runFolder('a', 'RUN-A', two('alpha', 'm1'));
    const b = await runFolder('b', 'RUN-B', [
      ...two('alpha', 'm2').slice(0, 1),
      { board: 'alpha', index: 2, machine: 'm2', bytes: 'evil\n' },
    ]);
    await mergeRuns([a, b], join(root, 'm'));
    const c = compareSets(await loadInputs([join(root, 'm')]));
    expect(c.ok).toBe(false);
    expect(allArtifacts(c)[0]?.disagreeing).toEqual(['RUN-B/alpha#2@m2']);
  });

  it('takes manifest files, board run folders and folders of run folders (a CI download)', async () => {
    const s1 = await runFolder('shards/shard-1/runs/RUN-1', 'RUN-1', two('alpha', 'm1'));
    await runFolder('shards/shard-2/runs/RUN-2', 'RUN-2', two('bravo', 'm2'));
    const lone = await runFolder('lone', 'RUN-3', two('charlie', 'm3'));
    const r = await mergeRuns(
      [
        join(root, 'shards/shard-2/runs'),
        join(s1, 'alpha/1/manifest.json'),
        join(s1, 'alpha/2'),
        join(lone, 'charlie/1'),
      ],
      join(root, 'out'),
    );
    expect(r.runs.map((x) => `${x.board}#${x.index}`)).toEqual([
      'alpha#1',
      'alpha#2',
      'bravo#1',
      'bravo#2',
      'charlie#1',
    ]);
    expect(r.runs.find((x) => x.board === 'bravo')?.log).toBe('logs/RUN-2@m2/bravo.log');
    expect(r.runs.find((x) => x.board === 'charlie')?.log).toBeUndefined();
  });

  it('skips an input without board runs (an empty shard) with a note, but not when all are empty', async () => {
    const s1 = await runFolder('s1', 'RUN-1', two('alpha', 'm1'));
    await mkdir(join(root, 'empty'));
    const r = await mergeRuns([s1, join(root, 'empty')], join(root, 'out'));
    expect(r.notes).toEqual([
      `${join(root, 'empty')}: no board runs (a shard without boards, or a build that failed early); skipped`,
    ]);
    await expect(mergeRuns([join(root, 'empty')], join(root, 'out2'))).rejects.toThrow(/no board runs/);
    await expect(mergeRuns([join(root, 'nope')], join(root, 'out3'))).rejects.toThrow(/nope does not exist/);
  });

  it('notes an image ID that differs between machines', async () => {
    const a = await runFolder('a', 'RUN-A', two('alpha', 'm1'));
    const b = await runFolder('b', 'RUN-B', two('alpha', 'm2', { imageId: 'b'.repeat(64) }));
    const r = await mergeRuns([a, b], join(root, 'out'));
    expect(r.notes.join('\n')).toMatch(
      /image firmware has ID sha256:a+ in RUN-A\/alpha#1@m1 but sha256:b+ in RUN-B\/alpha#1@m2/,
    );
  });
});

describe('mergeRuns refuses, and leaves nothing behind', () => {
  const nothingLeft = async (out: string) => {
    expect(existsSync(out)).toBe(false);
    expect((await readdir(root)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  };

  it('the same run folder twice', async () => {
    const a = await runFolder('a', 'RUN-A', two('alpha', 'm1'));
    const out = join(root, 'out');
    await expect(mergeRuns([a, a], out)).rejects.toThrow(/is given twice/);
    await nothingLeft(out);
  });

  it('a copy of the same run (the same shard downloaded twice)', async () => {
    const a = await runFolder('a', 'RUN-A', two('alpha', 'm1'));
    await cp(a, join(root, 'copy'), { recursive: true });
    const out = join(root, 'out');
    await expect(mergeRuns([a, join(root, 'copy')], out)).rejects.toThrow(
      /RUN-A\/alpha#1@m1 is in the inputs twice/,
    );
    await nothingLeft(out);
  });

  it('two different manifests claiming the same run', async () => {
    const a = await runFolder('a', 'RUN-A', two('alpha', 'm1'));
    const b = await runFolder('b', 'RUN-A', two('alpha', 'm1', { bytes: 'other\n' }));
    const out = join(root, 'out');
    await expect(mergeRuns([a, b], out)).rejects.toThrow(/conflicting manifests for RUN-A\/alpha#1@m1/);
    await nothingLeft(out);
  });

  it('runs of a board built from different pins', async () => {
    const a = await runFolder('a', 'RUN-A', two('alpha', 'm1'));
    const b = await runFolder('b', 'RUN-B', two('alpha', 'm2', { narHash: `sha256-${'B'.repeat(43)}=` }));
    const out = join(root, 'out');
    await expect(mergeRuns([a, b], out)).rejects.toThrow(
      /the inputs differ: runs of board alpha were built from different inputs \(conflicting manifests\): RUN-A\/alpha#1@m1 .* has pin offline path:\.\/pins\/offline sha256-A+=, but RUN-B\/alpha#1@m2 .* has offline path:\.\/pins\/offline sha256-B+=/,
    );
    await nothingLeft(out);
  });

  it('a manifest moved to another board folder', async () => {
    const a = await runFolder('a', 'RUN-A', two('alpha', 'm1'));
    await cp(join(a, 'alpha'), join(a, 'bravo'), { recursive: true });
    await expect(mergeRuns([a], join(root, 'out'))).rejects.toThrow(
      /is for board alpha, but lies in the folder of board bravo/,
    );
  });

  it('an output folder that is not empty', async () => {
    const a = await runFolder('a', 'RUN-A', two('alpha', 'm1'));
    await mkdir(join(root, 'out'));
    await writeFile(join(root, 'out', 'keep'), 'x');
    await expect(mergeRuns([a], join(root, 'out'))).rejects.toThrow(/already exists and is not empty/);
    expect(await readdir(join(root, 'out'))).toEqual(['keep']);
  });
});
