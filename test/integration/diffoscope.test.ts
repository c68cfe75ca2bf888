/**
 * Real diffoscope (Debian diffoscope-minimal) on two small binaries that differ in an
 * embedded version string: the kept text report must name both strings. Under CI a
 * missing diffoscope fails the test; elsewhere it is skipped with the reason below.
 */
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainDifference, findDiffoscope } from '../../src/compare/explain.js';

const diffoscope = await findDiffoscope();
const inCi = Boolean(process.env['CI']);

function binary(version: string): Buffer {
  const code = Buffer.alloc(4096);
  for (let i = 0; i < code.length; i++) code[i] = (i * 13 + 5) % 29;
  return Buffer.concat([code, Buffer.from(`\0SeaBIOS (version ${version})\0`), code]);
}

describe('diffoscope explanation', () => {
  it('fails under CI when diffoscope is missing (install diffoscope-minimal)', () => {
    if (inCi)
      expect(
        diffoscope,
        'diffoscope is required under CI: apt-get install -y diffoscope-minimal',
      ).toBeDefined();
  });

  // Not CI and no diffoscope: skipped, because there is nothing real to run (CI fails above instead).
  it.skipIf(!diffoscope && !inCi)('keeps text and HTML reports that show both version strings', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-diffoscope-'));
    await writeFile(join(dir, 'a.bin'), binary('1.16.2-20251122_104501-hostname'));
    await writeFile(join(dir, 'b.bin'), binary('1.16.2-20251201_090000-otherbox'));
    const out = join(dir, 'diff');
    const ex = await explainDifference(
      { label: 'run#1', path: join(dir, 'a.bin') },
      { label: 'run#2', path: join(dir, 'b.bin') },
      out,
      'bios.bin',
    );
    expect(ex.note).toBeUndefined();
    expect(ex.tool).toBe('diffoscope');
    expect(ex.differs).toBe(true);
    const text = await readFile(join(out, 'bios.bin.txt'), 'utf8');
    expect(text).toContain('1.16.2-20251122_104501-hostname');
    expect(text).toContain('1.16.2-20251201_090000-otherbox');
    // diffoscope's own hexdump diff is kept below the summary.
    expect(text).toMatch(/==== diffoscope ====\n--- .*a\.bin\n\+\+\+ .*b\.bin/);
    expect((await stat(join(out, 'bios.bin.html'))).size).toBeGreaterThan(0);
    expect(await readFile(join(out, 'bios.bin.html'), 'utf8')).toContain('<html');
  });

  it.skipIf(!diffoscope && !inCi)(
    'says the files are identical when diffoscope finds no difference',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'rr-diffoscope-'));
      await writeFile(join(dir, 'a.bin'), binary('same'));
      await writeFile(join(dir, 'b.bin'), binary('same'));
      const ex = await explainDifference(
        { label: 'a', path: join(dir, 'a.bin') },
        { label: 'b', path: join(dir, 'b.bin') },
        join(dir, 'diff'),
        'x.bin',
      );
      expect(ex.tool).toBe('diffoscope');
      expect(ex.differs).toBe(false);
      expect(await readFile(ex.text, 'utf8')).toContain('the files are identical');
    },
  );
});
