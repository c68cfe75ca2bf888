import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, readlink, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { type Header, pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import {
  artifactPolicy,
  type ExtractPolicy,
  extractArchive,
  UnsafeArchiveError,
} from '../../src/archive/extract.js';

const extractSafely = (stream: Readable, root: string) => extractArchive(stream, root, artifactPolicy);

type Entry = Partial<Header> & { name: string; content?: string };

function tarOf(entries: Entry[]): Readable {
  const p = pack();
  for (const { content, ...header } of entries) p.entry(header as Header, content ?? '');
  p.finalize();
  return p as unknown as Readable;
}

async function listAll(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe('extracting artifacts', () => {
  it('extracts regular files and inside symlinks (under a policy that takes links)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-ex-'));
    const out = join(root, 'out');
    const files = await extractArchive(
      tarOf([
        { name: 'rom/bios.bin', type: 'file', content: 'ROM' },
        { name: 'rom/latest', type: 'symlink', linkname: 'bios.bin' },
      ]),
      out,
      { ...artifactPolicy, symlinks: 'inside' },
    );
    expect(files).toEqual([
      { path: 'rom/bios.bin', size: 3, sha256: createHash('sha256').update('ROM').digest('hex') },
    ]);
    expect(await readFile(join(out, 'rom/bios.bin'), 'utf8')).toBe('ROM');
    expect(await readlink(join(out, 'rom/latest'))).toBe('bios.bin');
  });

  it.each([
    ['a parent-directory path', [{ name: '../evil', type: 'file' as const, content: 'x' }]],
    ['a nested parent-directory path', [{ name: 'a/../../evil', type: 'file' as const, content: 'x' }]],
    ['an absolute path', [{ name: '/tmp/evil', type: 'file' as const, content: 'x' }]],
    ['an absolute symlink', [{ name: 'link', type: 'symlink' as const, linkname: '/etc/passwd' }]],
    ['an escaping relative symlink', [{ name: 'd/link', type: 'symlink' as const, linkname: '../../x' }]],
    [
      'a file written through a symlink',
      [
        { name: 'a', type: 'symlink' as const, linkname: '.' },
        { name: 'a/b', type: 'file' as const, content: 'x' },
      ],
    ],
    [
      'a symlink that escapes through an earlier one',
      [
        { name: 's', type: 'symlink' as const, linkname: '.' },
        { name: 't', type: 'symlink' as const, linkname: 's/../x' },
      ],
    ],
    [
      'a name given twice (a file, then a link)',
      [
        { name: 'rom.bin', type: 'file' as const, content: 'a' },
        { name: 'rom.bin', type: 'symlink' as const, linkname: 'other.bin' },
      ],
    ],
    [
      'an inside symlink (artifacts are regular files)',
      [{ name: 'l', type: 'symlink' as const, linkname: 'x' }],
    ],
    ['a backslash parent path', [{ name: '..\\evil', type: 'file' as const, content: 'x' }]],
    ['a hard link', [{ name: 'h', type: 'link' as const, linkname: 'etc/passwd' }]],
    ['a device', [{ name: 'dev', type: 'character-device' as const }]],
  ])('refuses %s and writes nothing outside', async (_label, entries) => {
    const root = await mkdtemp(join(tmpdir(), 'rr-ex-'));
    const out = join(root, 'out');
    await expect(extractSafely(tarOf(entries), out)).rejects.toBeInstanceOf(UnsafeArchiveError);
    expect((await listAll(root)).filter((p) => !p.startsWith('out'))).toEqual([]);
  });

  it('keeps one copy of a file sent twice (two artifact globs matched it)', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'rr-ex-')), 'out');
    const files = await extractSafely(
      tarOf([
        { name: 'out/a.rom', type: 'file', content: 'A' },
        { name: 'out/a.rom', type: 'file', content: 'A' },
      ]),
      out,
    );
    expect(files).toEqual([
      { path: 'out/a.rom', size: 1, sha256: createHash('sha256').update('A').digest('hex') },
    ]);
  });

  it('writes long and unicode names where they belong', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'rr-ex-')), 'out');
    const long = `${'d'.repeat(200)}/${'f'.repeat(250)}`;
    const files = await extractSafely(
      tarOf([
        { name: long, type: 'file', content: 'L' },
        { name: '固件/ünï.bin', type: 'file', content: 'U' },
      ]),
      out,
    );
    expect(files.map((f) => f.path).sort()).toEqual([long, '固件/ünï.bin'].sort());
    expect(await readFile(join(out, '固件/ünï.bin'), 'utf8')).toBe('U');
  });

  it('leaves no half-written file when the archive is cut inside its bytes', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'rr-ex-')), 'out');
    const whole = await buffer(
      tarOf([
        { name: 'out/ok.bin', type: 'file', content: 'fine' },
        { name: 'out/big.bin', type: 'file', content: 'x'.repeat(100_000) },
      ]),
    );
    // The first file, the second's header and 10,000 of its 100,000 bytes.
    const cut = Readable.from([whole.subarray(0, 1024 + 512 + 10_000)]);
    await expect(extractSafely(cut, out)).rejects.toThrow();
    expect(await listAll(out)).toEqual(['out', 'out/ok.bin']);
  });

  it('refuses to write through a symlinked folder already in the destination', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-ex-'));
    const out = join(root, 'out');
    await mkdir(join(root, 'elsewhere'));
    await mkdir(out);
    await symlink(join(root, 'elsewhere'), join(out, 'out'));
    const tar = tarOf([{ name: 'out/a.bin', type: 'file', content: 'A' }]);
    await expect(extractSafely(tar, out)).rejects.toThrow(/is not a valid path/);
    expect(await readdir(join(root, 'elsewhere'))).toEqual([]);
  });

  it('writes files with the mode tar-fs gave them and folders once, over many entries', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'rr-ex-')), 'out');
    const entries: Entry[] = [];
    for (let i = 0; i < 300; i++)
      entries.push({ name: `out/d${i % 3}/f${i}`, type: 'file', mode: 0o777, content: `${i}` });
    const files = await extractSafely(tarOf(entries), out);
    expect(files).toHaveLength(300);
    const umask = process.umask();
    expect((await stat(join(out, 'out/d2/f299'))).mode & 0o777).toBe(0o644 & ~umask);
    expect((await stat(join(out, 'out/d2'))).mode & 0o777).toBe(0o755 & ~umask);
    expect(await readFile(join(out, 'out/d1/f100'), 'utf8')).toBe('100');
  });
});

describe('extracting sources', () => {
  const sources = (strip: number): ExtractPolicy => ({
    stripComponents: strip,
    hardLinks: 'copy',
    duplicates: 'replace',
    modes: 'exec',
    folder: 'the folder',
    refuse: (name, why) => new Error(`${name}: ${why}`),
  });

  it('strips components, copies hard links, keeps exec bits and lets a later entry win', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'rr-ex-')), 'out');
    const files = await extractArchive(
      tarOf([
        { name: 'p-1/', type: 'directory' },
        { name: 'p-1/a', type: 'file', content: 'old' },
        { name: 'p-1/a', type: 'file', content: 'new' },
        { name: 'p-1/run.sh', type: 'file', mode: 0o755, content: '#!/bin/sh' },
        { name: 'p-1/h', type: 'link', linkname: 'p-1/a' },
        { name: 'p-1/l', type: 'symlink', linkname: 'a' },
      ]),
      out,
      sources(1),
    );
    expect(files.map((f) => f.path).sort()).toEqual(['a', 'h', 'run.sh']);
    expect(await readFile(join(out, 'a'), 'utf8')).toBe('new');
    expect(await readFile(join(out, 'h'), 'utf8')).toBe('new');
    expect((await stat(join(out, 'h'))).nlink).toBe(1); // a copy, not a second name for a's bytes
    expect((await stat(join(out, 'run.sh'))).mode & 0o111).not.toBe(0);
    expect((await stat(join(out, 'a'))).mode & 0o111).toBe(0);
    expect(await readlink(join(out, 'l'))).toBe('a');
  });

  it('refuses a hard link to a name outside the stripped folder', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'rr-ex-')), 'out');
    const tar = tarOf([{ name: 'p-1/h', type: 'link', linkname: '../etc/passwd' }]);
    await expect(extractArchive(tar, out, sources(1))).rejects.toThrow(/hard link target/);
  });
});
