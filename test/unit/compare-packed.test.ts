/**
 * Plain hashes lists are loaded as bytes and offset arrays, and two lists naming the same files
 * are compared in those bytes, with rows made only when read. These tests hold that path to the
 * text parser's results: the same rows, verdicts, table, problems and summary, and every list
 * the packed path does not take (bad lines, "./" prefixes, UTF-8 names, CR line ends, names out
 * of order) still goes through the text parser with its located messages.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allArtifacts, compareSets } from '../../src/compare/compare.js';
import { loadInputs } from '../../src/compare/inputs.js';
import type { HashSet } from '../../src/compare/model.js';
import { compareInputs } from '../../src/compare/outcome.js';
import { verdictSummary } from '../../src/compare/summary.js';
import { renderProblems, renderTable } from '../../src/compare/table.js';
import { parseHashesTxt } from '../../src/hashes/hashesTxt.js';
import { packedFolders, packHashes, unpackHashes } from '../../src/hashes/packed.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const rows = (n: number, change: (i: number) => string = String) =>
  Array.from({ length: n }, (_, i) => `${sha(change(i))}  out/b${i % 5}/f${String(i).padStart(5, '0')}.bin`);

async function pair(a: string, b: string): Promise<[string, string]> {
  const dir = await mkdtemp(join(tmpdir(), 'rr-packed-'));
  temps.push(dir);
  await mkdir(join(dir, 'a'));
  await mkdir(join(dir, 'b'));
  await writeFile(join(dir, 'a', 'list.txt'), a);
  await writeFile(join(dir, 'b', 'list.txt'), b);
  return [join(dir, 'a', 'list.txt'), join(dir, 'b', 'list.txt')];
}

/** Everything a person or a program reads of a comparison. */
const everything = (c: ReturnType<typeof compareSets>) => ({
  table: renderTable(c, (_, t) => t),
  problems: renderProblems(c),
  summary: verdictSummary(c),
  ok: c.ok,
  notes: c.notes,
  unrelated: c.unrelated,
  artifacts: allArtifacts(c),
});

describe('packed hashes lists', () => {
  it("packs a plain list and gives the text parser's rows back", () => {
    const text = `${rows(50).join('\n')}\n`;
    const packed = packHashes(Buffer.from(text));
    expect(packed?.count).toBe(50);
    const parsed = parseHashesTxt(text, 'h.txt');
    expect(unpackHashes(packed!)).toEqual(parsed.map((l) => ({ ...l, key: l.path.split('/').pop() })));
    // Each folder once, in first-seen order, though the list is not grouped by folder.
    expect(packedFolders(packed!)).toEqual(['out/b0', 'out/b1', 'out/b2', 'out/b3', 'out/b4']);
    const bare = packHashes(Buffer.from(`${sha('1')}  a.bin\n${sha('2')}  x/b.bin\n${sha('3')}  c.bin\n`));
    expect(packedFolders(bare!)).toEqual(['', 'x']);
    // No final line break: the same rows.
    expect(packHashes(Buffer.from(rows(3).join('\n')))?.count).toBe(3);
  });

  it('leaves every other list to the text parser', () => {
    const plain = rows(3);
    const declined = [
      '',
      `${plain.join('\n')}\n\n`, // an empty line
      plain.join('\r\n'), // CR line ends
      [plain[0], plain[1]?.replace('  out/', '  ./out/')].join('\n'), // "./" prefix
      [plain[0], plain[1]?.replace('f00001', 'fé0001')].join('\n'), // UTF-8 name
      [plain[0], plain[1]?.replace('  out/', '  /out/')].join('\n'), // absolute
      [plain[0], plain[1]?.replace('out/', 'out/../')].join('\n'), // ".."
      [plain[0], plain[1]?.replace('out/', 'out//')].join('\n'), // empty segment
      [plain[0], plain[1]?.replace('out/', 'out\\')].join('\n'), // backslash
      [plain[0], plain[1]?.replace(/^./, 'A')].join('\n'), // upper-case hex
      [plain[0], plain[1]?.replace('  ', '\t')].join('\n'), // tab
      [plain[0], plain[1]?.replace('out/b1/f00001', 'x/f00000')].join('\n'), // a name twice, in two folders
      [plain[0], plain[0]].join('\n'), // a name twice
      `SHA256 (a.bin) = ${sha('a')}`, // BSD tag line
      `2024-01-01 12:00:00 abc clean\n${plain[0]}`, // Heads header
    ];
    for (const text of declined) expect(packHashes(Buffer.from(text)), JSON.stringify(text)).toBeUndefined();
    // Names out of order are packed, with an index of their names.
    expect(packHashes(Buffer.from([plain[1], plain[0]].join('\n')))).toMatchObject({
      count: 2,
      sorted: false,
    });
  });

  it('a list past the line cap is not packed, and the text parser refuses it with its line', async () => {
    const old = process.env['REPROROM_MAX_INPUT_LINES'];
    process.env['REPROROM_MAX_INPUT_LINES'] = '2';
    try {
      const text = rows(3).join('\n');
      expect(packHashes(Buffer.from(text))).toBeUndefined();
      const [a, b] = await pair(text, text);
      await expect(loadInputs([a, b])).rejects.toThrow(/list\.txt:3:1: more than 2 lines \(3\)/);
    } finally {
      if (old === undefined) delete process.env['REPROROM_MAX_INPUT_LINES'];
      else process.env['REPROROM_MAX_INPUT_LINES'] = old;
    }
  });

  it('two lists of the same files compare by bytes with the same results as the text path', async () => {
    const a = rows(1500);
    const b = rows(1500, (i) => (i === 7 || i === 1400 ? `other ${i}` : String(i)));
    const [fa, fb] = await pair(`${a.join('\n')}\n`, `${b.join('\n')}\n`);
    const sets = await loadInputs([fa, fb]);
    expect(sets.every((s) => s.rows.kind === 'packed')).toBe(true);
    const packed = compareSets(sets);
    expect(packed.count).toBe(1500);
    expect(packed.problems.map((r) => r.key)).toEqual(['f00007.bin', 'f01400.bin']);
    // The same lists with a "./" on one line go through the text parser: the same comparison.
    const [ta, tb] = await pair(
      `${a.join('\n').replace('  out/b0/f00000', '  ./out/b0/f00000')}\n`,
      `${b.join('\n').replace('  out/b0/f00000', '  ./out/b0/f00000')}\n`,
    );
    const textSets = await loadInputs([ta, tb]);
    expect(textSets.every((s) => s.rows.kind === 'listed')).toBe(true);
    const text = compareSets(textSets);
    // Only the folder the lists were written to differs.
    const relabel = (x: ReturnType<typeof everything>) =>
      JSON.parse(JSON.stringify(x).replaceAll(dirname(dirname(ta)), dirname(dirname(fa))));
    expect(everything(packed)).toEqual(relabel(everything(text)));
    expect(packed.ok).toBe(false);
    // Equal lists: reproducible, and the rows are made only when read.
    const same = compareSets(await loadInputs(await pair(`${a.join('\n')}\n`, `${a.join('\n')}\n`)));
    expect(same.ok).toBe(true);
    expect(verdictSummary(same)).toBe('reproducible: 1500 artifacts identical across 2 inputs');
    expect(allArtifacts(same)).toHaveLength(1500);
    expect(allArtifacts(same)[3]).toMatchObject({
      key: 'f00003.bin',
      verdict: 'reproducible',
      disagreeing: [],
    });
  });

  it('a list whose folders exist here is read as text, so its local copies are hashed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-packed-local-'));
    temps.push(dir);
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'out', 'x.bin'), 'edited');
    await writeFile(join(dir, 'list.txt'), `${sha('original')}  out/x.bin\n`);
    await writeFile(join(dir, 'other.txt'), `${sha('original')}  out/x.bin\n`);
    const sets = await loadInputs([join(dir, 'list.txt'), join(dir, 'other.txt')]);
    expect(sets.map((s: HashSet) => s.rows.kind)).toEqual(['listed', 'listed']);
    const c = compareSets(sets);
    // Both lists read the same edited file: equal bytes, but they disagree with what was recorded.
    expect(allArtifacts(c).map((r) => r.verdict)).toEqual(['mismatch']);
    expect(c.notes.join('\n')).toMatch(/file on disk has sha256/);
  });

  it("lists in any order, with keys one side lacks, compare by bytes with the text path's results", async () => {
    const shuffled = <T>(xs: T[], seed: number) => {
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        const j = (i * 7919 + seed) % (i + 1);
        [out[i], out[j]] = [out[j] as T, out[i] as T];
      }
      return out;
    };
    const a = shuffled(rows(1500), 3);
    // b: two changed hashes, one file fewer and one more, in another order.
    const b = shuffled(
      [
        ...rows(1500, (i) => (i === 9 || i === 1201 ? `other ${i}` : String(i))).filter((_, i) => i !== 33),
        `${sha('x')}  out/extra.bin`,
      ],
      5,
    );
    const [fa, fb] = await pair(`${a.join('\n')}\n`, `${b.join('\n')}`);
    const sets = await loadInputs([fa, fb]);
    expect(sets.map((s) => s.rows.kind)).toEqual(['packed', 'packed']);
    const packed = compareSets(sets);
    expect(packed.count).toBe(1501);
    expect(packed.problems.map((r) => [r.key, r.verdict])).toEqual([
      ['extra.bin', 'single-run'],
      ['f00009.bin', 'mismatch'],
      ['f00033.bin', 'single-run'],
      ['f01201.bin', 'mismatch'],
    ]);
    // A "./" on one line of each sends both through the text parser: the same comparison.
    const dot = (xs: string[]) =>
      xs.map((l, i) => (i === 0 ? l.replace('  out/', '  ./out/') : l)).join('\n');
    const [ta, tb] = await pair(`${dot(a)}\n`, dot(b));
    const textSets = await loadInputs([ta, tb]);
    expect(textSets.map((s) => s.rows.kind)).toEqual(['listed', 'listed']);
    const relabel = (x: ReturnType<typeof everything>) =>
      JSON.parse(JSON.stringify(x).replaceAll(dirname(dirname(ta)), dirname(dirname(fa))));
    expect(everything(packed)).toEqual(relabel(everything(compareSets(textSets))));
    // Three lists, the third in yet another order and lacking what b added.
    const [fc] = await pair(`${shuffled(rows(1500), 11).join('\n')}\n`, '');
    const three = compareSets(await loadInputs([fa, fb, fc]));
    const [la, lb, lc] = three.inputs.map((i) => i.label);
    expect(three.problems.map((r) => [r.key, r.verdict, r.disagreeing])).toEqual([
      ['extra.bin', 'single-run', [la, lc]],
      ['f00009.bin', 'mismatch', [lb]],
      ['f00033.bin', 'missing', [lb]],
      ['f01201.bin', 'mismatch', [lb]],
    ]);
    expect(allArtifacts(three).map((r) => r.key)).toEqual(allArtifacts(packed).map((r) => r.key));
  });

  it('a name listed twice (in different folders) is keyed by path, through the text parser', async () => {
    const list = `${sha('1')}  x/rom.bin\n${sha('2')}  a.bin\n${sha('3')}  y/rom.bin\n`;
    const [fa, fb] = await pair(list, list.replace(sha('3'), sha('4')));
    const sets = await loadInputs([fa, fb]);
    expect(sets.map((s) => s.rows.kind)).toEqual(['listed', 'listed']);
    expect(compareSets(sets).problems.map((r) => r.key)).toEqual(['y/rom.bin']);
  });

  it('mismatches with no local copies are noted once, with a count', async () => {
    const a = rows(40);
    const changed = rows(40, (i) => (i % 10 === 3 ? `other ${i}` : String(i)));
    const many = await compareInputs(await pair(`${a.join('\n')}\n`, `${changed.join('\n')}\n`), {});
    expect(many.comparison.problems).toHaveLength(4);
    expect(many.comparison.notes).toEqual([
      '4 mismatches have no local copies on both sides; compare run folders to get diff reports',
    ]);
    const one = await compareInputs(
      await pair(`${a.join('\n')}\n`, `${rows(40, (i) => (i === 5 ? 'x' : String(i))).join('\n')}\n`),
      {},
    );
    expect(one.comparison.notes).toEqual([
      'f00005.bin: no local copies on both sides of the mismatch, so no diff report (compare run folders to get one)',
    ]);
  });
});
