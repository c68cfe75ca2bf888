import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { looksLikeHeads, parseHeadsHashes } from '../../src/hashes/heads.js';
import { ConfigError } from '../../src/util/errors.js';
import { sha256Bytes } from '../../src/util/sha256.js';

const FIXTURE = new URL('../fixtures/hashes/heads-x230.hashes.txt', import.meta.url);

describe('Heads-style hashes.txt', () => {
  it('reads the header, absolute and relative paths, and keys entries by file name', async () => {
    const text = await readFile(FIXTURE, 'utf8');
    expect(looksLikeHeads(text)).toBe(true);
    const h = parseHeadsHashes(text, 'hashes.txt');
    expect(h.header).toEqual({ date: '2025-10-01 12:34:56+00:00', commit: '3f2a9c1', state: 'clean' });
    expect(h.entries.map((e) => e.name)).toEqual([
      'tools.cpio',
      'bzImage',
      'heads-x230-hotp-maximized-v0.2.1.rom',
      'heads-x230-hotp-maximized-v0.2.1.zip',
    ]);
    expect(h.entries[0]?.path).toBe('/root/project/build/x86/x230-hotp-maximized/tools.cpio');
    expect(h.entries[2]?.sha256).toBe(sha256Bytes('rom-v0.2.1'));
  });

  it('attaches the `-----` cpio block to its archive instead of treating members as artifacts', async () => {
    const h = parseHeadsHashes(await readFile(FIXTURE, 'utf8'), 'hashes.txt');
    const cpio = h.entries.find((e) => e.name === 'tools.cpio');
    expect(cpio?.members.map((m) => m.path)).toEqual(['./bin/busybox', './init']);
    expect(h.entries.some((e) => e.name === 'busybox')).toBe(false);
    expect(h.orphanMembers).toEqual([]);
  });

  it('parses a dirty tree and CRLF line ends', () => {
    const text = `2024-01-02 03:04:05+00:00 abcdef0 dirty\r\n${sha256Bytes('x')}  /home/user/heads/build/x86/b/x.rom\r\n`;
    const h = parseHeadsHashes(text, 'h.txt');
    expect(h.header?.state).toBe('dirty');
    expect(h.entries).toEqual([
      {
        path: '/home/user/heads/build/x86/b/x.rom',
        name: 'x.rom',
        sha256: sha256Bytes('x'),
        line: 2,
        members: [],
      },
    ]);
  });

  it('is not confused with reprorom hashes.txt', () => {
    expect(looksLikeHeads(`${sha256Bytes('x')}  artifacts/x.rom\n`)).toBe(false);
  });

  it('gives located errors for bad lines', () => {
    const text = `2025-10-01 12:34:56+00:00 3f2a9c1 clean\n${sha256Bytes('x')}  /a/x.rom\n${'A'.repeat(64)}  /a/y.rom\n`;
    try {
      parseHeadsHashes(text, 'ci/hashes.txt');
      throw new Error('expected an error');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(
        /^ci\/hashes\.txt:3:1: sha256 "A+…": expected 64 lowercase hex digits, found uppercase hex$/,
      );
    }
  });
});
