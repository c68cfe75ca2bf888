import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { type Header, pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { extractSafely, UnsafeArchiveError } from '../../src/runs/extract.js';

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

describe('extractSafely', () => {
  it('extracts regular files and inside symlinks', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-ex-'));
    const out = join(root, 'out');
    const files = await extractSafely(
      tarOf([
        { name: 'rom/bios.bin', type: 'file', content: 'ROM' },
        { name: 'rom/latest', type: 'symlink', linkname: 'bios.bin' },
      ]),
      out,
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
    ['a hard link', [{ name: 'h', type: 'link' as const, linkname: 'etc/passwd' }]],
    ['a device', [{ name: 'dev', type: 'character-device' as const }]],
  ])('refuses %s and writes nothing outside', async (_label, entries) => {
    const root = await mkdtemp(join(tmpdir(), 'rr-ex-'));
    const out = join(root, 'out');
    await expect(extractSafely(tarOf(entries), out)).rejects.toBeInstanceOf(UnsafeArchiveError);
    expect((await listAll(root)).filter((p) => !p.startsWith('out'))).toEqual([]);
  });
});
