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
import { artifactCount, compareSets, notReproducible, packedOf } from '../../src/compare/compare.js';
import { loadInputs } from '../../src/compare/inputs.js';
import { renderProblems, renderSummary, renderTable } from '../../src/compare/table.js';
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
  summary: renderSummary(c),
  ok: c.ok,
  notes: c.notes,
  unrelated: c.unrelated,
  artifacts: c.artifacts,
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
      [plain[1], plain[0]].join('\n'), // names out of order
      [plain[0], plain[0]].join('\n'), // a name twice
      `SHA256 (a.bin) = ${sha('a')}`, // BSD tag line
      `2024-01-01 12:00:00 abc clean\n${plain[0]}`, // Heads header
    ];
    for (const text of declined) expect(packHashes(Buffer.from(text)), JSON.stringify(text)).toBeUndefined();
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
    expect(sets.every((s) => packedOf(s) !== undefined)).toBe(true);
    const packed = compareSets(sets);
    expect(artifactCount(packed)).toBe(1500);
    expect(notReproducible(packed).map((r) => r.key)).toEqual(['f00007.bin', 'f01400.bin']);
    // The same lists with a "./" on one line go through the text parser: the same comparison.
    const [ta, tb] = await pair(
      `${a.join('\n').replace('  out/b0/f00000', '  ./out/b0/f00000')}\n`,
      `${b.join('\n').replace('  out/b0/f00000', '  ./out/b0/f00000')}\n`,
    );
    const textSets = await loadInputs([ta, tb]);
    expect(textSets.every((s) => packedOf(s) === undefined)).toBe(true);
    const text = compareSets(textSets);
    // Only the folder the lists were written to differs.
    const relabel = (x: ReturnType<typeof everything>) =>
      JSON.parse(JSON.stringify(x).replaceAll(dirname(dirname(ta)), dirname(dirname(fa))));
    expect(everything(packed)).toEqual(relabel(everything(text)));
    expect(packed.ok).toBe(false);
    // Equal lists: reproducible, and the rows are made only when read.
    const same = compareSets(await loadInputs(await pair(`${a.join('\n')}\n`, `${a.join('\n')}\n`)));
    expect(same.ok).toBe(true);
    expect(renderSummary(same)).toBe('reproducible: 1500 artifacts identical across 2 inputs');
    expect(same.artifacts).toHaveLength(1500);
    expect(same.artifacts[3]).toMatchObject({ key: 'f00003.bin', verdict: 'reproducible', disagreeing: [] });
  });

  it('a list whose folders exist here is read as text, so its local copies are hashed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-packed-local-'));
    temps.push(dir);
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'out', 'x.bin'), 'edited');
    await writeFile(join(dir, 'list.txt'), `${sha('original')}  out/x.bin\n`);
    await writeFile(join(dir, 'other.txt'), `${sha('original')}  out/x.bin\n`);
    const sets = await loadInputs([join(dir, 'list.txt'), join(dir, 'other.txt')]);
    expect(sets.map((s) => packedOf(s))).toEqual([undefined, undefined]);
    const c = compareSets(sets);
    // Both lists read the same edited file: equal bytes, but they disagree with what was recorded.
    expect(c.artifacts.map((r) => r.verdict)).toEqual(['mismatch']);
    expect(c.notes.join('\n')).toMatch(/file on disk has sha256/);
  });
});
