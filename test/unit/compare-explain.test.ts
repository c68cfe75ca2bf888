import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinCompare, firstDifference, printableStrings } from '../../src/compare/builtinDiff.js';
import { explainDifference, findDiffoscope, reportBaseName } from '../../src/compare/explain.js';

/** A fake ROM: code-like noise around an embedded SeaBIOS-style version string. */
function rom(version: string): Buffer {
  const noise = Buffer.alloc(2048);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 7 + 3) % 31; // never 6 printable bytes in a row
  return Buffer.concat([noise, Buffer.from(`\0\0SeaBIOS (version ${version})\0shared-string-here\0`), noise]);
}

async function pair(a: Buffer, b: Buffer) {
  const dir = await mkdtemp(join(tmpdir(), 'rr-explain-'));
  await writeFile(join(dir, 'a.bin'), a);
  await writeFile(join(dir, 'b.bin'), b);
  return { dir, a: join(dir, 'a.bin'), b: join(dir, 'b.bin') };
}

describe('built-in diff summary', () => {
  it('shows both differing version strings, the sizes and the first differing offset', async () => {
    const p = await pair(rom('1.16.2-20251122_104501-hostname'), rom('1.16.2-20251201_083000-builder'));
    const s = await builtinCompare(p.a, p.b);
    expect(s.identical).toBe(false);
    expect(s.onlyInA).toEqual(['SeaBIOS (version 1.16.2-20251122_104501-hostname)']);
    expect(s.onlyInB).toEqual(['SeaBIOS (version 1.16.2-20251201_083000-builder)']);
    expect(s.firstDiff?.offset).toBe(2048 + 2 + 'SeaBIOS (version 1.16.2-20251'.length);
    expect(s.sizeA).toBe(s.sizeB + 1);

    const ex = await explainDifference(
      { label: 'run#1', path: p.a },
      { label: 'run#2', path: p.b },
      join(p.dir, 'diff'),
      'seabios/bios.bin',
      { diffoscope: null },
    );
    expect(ex.tool).toBe('builtin');
    expect(ex.text).toBe(join(p.dir, 'diff', 'seabios_bios.bin.txt'));
    const text = await readFile(ex.text, 'utf8');
    expect(text).toContain('1.16.2-20251122_104501-hostname');
    expect(text).toContain('1.16.2-20251201_083000-builder');
    expect(text).not.toContain('shared-string-here');
  });

  it('names a build date that changed, before the long string lists, even among many differing strings', async () => {
    // coreboot without BUILD_TIMELESS: the banner holds `date`'s output; compressed stages around
    // it give dozens of differing strings that are longer than the date.
    const noise = (seed: number) =>
      Array.from({ length: 60 }, (_, i) => `${'Zq'.repeat(60)}${seed}-${i}`).join('\0');
    const banner = (date: string) =>
      Buffer.concat([
        Buffer.from(noise(1)),
        Buffer.from(`\0coreboot-4.15-dfsg-3 ${date} bootblock starting (log level: 7)...\0`),
      ]);
    const p = await pair(
      banner('Wed Dec  2 16:23:05 UTC 2026'),
      Buffer.concat([
        Buffer.from(noise(2)),
        banner('Thu Jan  4 21:23:05 UTC 2028').subarray(noise(1).length),
      ]),
    );
    const ex = await explainDifference(
      { label: 'run#1', path: p.a },
      { label: 'run#2', path: p.b },
      join(p.dir, 'diff'),
      'coreboot-qemu-naive/coreboot.rom',
      { diffoscope: null },
    );
    expect(ex.stamps).toEqual({ a: ['Wed Dec  2 16:23:05 UTC 2026'], b: ['Thu Jan  4 21:23:05 UTC 2028'] });
    // The terminal shows the summary's lines 3 to 14: the dated banner is among them.
    const shown = ex.summary.slice(2, 14);
    expect(shown).toContain('a date or time differs (a build time stamp):');
    expect(shown).toContain(
      `  A: ${JSON.stringify('coreboot-4.15-dfsg-3 Wed Dec  2 16:23:05 UTC 2026 bootblock starting (log level: 7)...')}`,
    );
    expect(shown).toContain(
      `  B: ${JSON.stringify('coreboot-4.15-dfsg-3 Thu Jan  4 21:23:05 UTC 2028 bootblock starting (log level: 7)...')}`,
    );
    expect(await readFile(ex.text, 'utf8')).toContain('a date or time differs');
  });

  it('says nothing of dates when the differing strings hold none', async () => {
    const p = await pair(rom('1.16.2-hostname-a'), rom('1.16.2-hostname-b'));
    const ex = await explainDifference(
      { label: 'a', path: p.a },
      { label: 'b', path: p.b },
      join(p.dir, 'diff'),
      'x.bin',
      { diffoscope: null },
    );
    expect(ex.stamps).toBeUndefined();
    expect(ex.summary.join('\n')).not.toContain('a date or time differs');
  });

  it('reports identical files as identical', async () => {
    const p = await pair(rom('x-1.0.0'), rom('x-1.0.0'));
    expect(await firstDifference(p.a, p.b)).toBeUndefined();
    expect((await builtinCompare(p.a, p.b)).identical).toBe(true);
  });

  it('finds the first difference past the first 1 MiB read and when one file is a prefix', async () => {
    const big = Buffer.alloc(1024 * 1024 + 100, 0x41);
    const other = Buffer.from(big);
    other[1024 * 1024 + 5] = 0x42;
    let p = await pair(big, other);
    expect(await firstDifference(p.a, p.b)).toEqual({ offset: 1024 * 1024 + 5, a: 0x41, b: 0x42 });
    p = await pair(Buffer.from('abcdef'), Buffer.from('abcdefgh'));
    expect(await firstDifference(p.a, p.b)).toEqual({ offset: 6, a: undefined, b: 0x67 });
  });

  it('extracts runs of at least 6 printable characters, across read boundaries', async () => {
    const data = Buffer.concat([
      Buffer.alloc(1024 * 1024 - 3, 0),
      Buffer.from('boundary-string'),
      Buffer.from('\0short\0sixsix\0'),
    ]);
    const p = await pair(data, data);
    expect([...(await printableStrings(p.a))]).toEqual(['boundary-string', 'sixsix']);
  });

  it('limits the listed strings but counts them all', async () => {
    const many = (tag: string) =>
      Buffer.from(Array.from({ length: 100 }, (_, i) => `${tag}-string-${i}`).join('\0'));
    const p = await pair(many('a'), many('b'));
    const s = await builtinCompare(p.a, p.b, 10);
    expect(s.onlyInA).toHaveLength(10);
    expect(s.onlyInACount).toBe(100);
  });
});

describe('explain helpers', () => {
  it('turns artifact keys into safe file names', () => {
    expect(reportBaseName('seabios/bios.bin')).toBe('seabios_bios.bin');
    expect(reportBaseName('../x')).toMatch(/^[^./][^/]*$/);
  });
  it('finds diffoscope only in PATH folders', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-path-'));
    expect(await findDiffoscope(dir)).toBeUndefined();
    await writeFile(join(dir, 'diffoscope'), '#!/bin/sh\n', { mode: 0o755 });
    expect(await findDiffoscope(`/nonexistent:${dir}`)).toBe(join(dir, 'diffoscope'));
  });
  it('falls back to the built-in summary when diffoscope fails (exit other than 0 or 1)', async () => {
    const p = await pair(rom('v-aaaaaa'), rom('v-bbbbbb'));
    const fake = join(p.dir, 'fake-diffoscope');
    await writeFile(fake, '#!/bin/sh\necho "boom: cannot compare" >&2\nexit 2\n', { mode: 0o755 });
    const ex = await explainDifference(
      { label: 'a', path: p.a },
      { label: 'b', path: p.b },
      join(p.dir, 'diff'),
      'x.bin',
      { diffoscope: fake },
    );
    expect(ex.tool).toBe('builtin');
    expect(ex.note).toBe('diffoscope failed (exit 2): boom: cannot compare');
    expect(await readFile(ex.text, 'utf8')).toContain('v-bbbbbb');
  });
});
