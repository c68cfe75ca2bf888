/**
 * Files the tool must not lose or overwrite, and state it must not leave behind:
 * cached downloads kept until a replacement verifies, generators that refuse to
 * replace a file without --force, and odd files where the tool keeps its own.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Bytes } from '../../src/hashes/sha256.js';
import { debianCacheDir, fetchDebianSource } from '../../src/sources/debian.js';
import { runCli } from '../helpers/cli.js';
import { expectNoStack } from './support.js';

const temps: string[] = [];
async function temp(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

describe('robustness: lifecycle of files', () => {
  it('a mistyped Debian sha256 on an offline machine keeps the good cached source', async () => {
    const root = await temp('rr-debcache-');
    // An apt that cannot reach its mirror, as on an offline machine.
    const bin = join(root, 'bin');
    await mkdir(bin);
    await writeFile(
      join(bin, 'apt-get'),
      '#!/bin/sh\ncase "$*" in *update*) exit 0;; esac\necho "E: Failed to fetch http://deb.example/pool/x.dsc  Temporary failure resolving \'deb.example\'" >&2\nexit 100\n',
    );
    await chmod(join(bin, 'apt-get'), 0o755);
    const env = { REPROROM_CACHE: process.env['REPROROM_CACHE'], PATH: process.env['PATH'] };
    process.env['REPROROM_CACHE'] = join(root, 'cache');
    process.env['PATH'] = `${bin}:${env.PATH ?? ''}`;
    try {
      const dir = debianCacheDir('demo', '1.0-1');
      await mkdir(dir, { recursive: true });
      const files = { 'demo_1.0-1.dsc': 'dsc\n', 'demo_1.0.orig.tar.gz': 'orig\n' };
      for (const [n, body] of Object.entries(files)) await writeFile(join(dir, n), body);
      const good = Object.fromEntries(Object.entries(files).map(([n, b]) => [n, sha256Bytes(b)]));
      const typo = { ...good, 'demo_1.0.orig.tar.gz': '0'.repeat(64) };
      await expect(fetchDebianSource('demo', '1.0-1', typo)).rejects.toThrow(/not available|Failed to fetch/);
      // The only copy is still there and still serves the right pins.
      expect((await readdir(dir)).sort()).toEqual(Object.keys(files).sort());
      expect(await readFile(join(dir, 'demo_1.0.orig.tar.gz'), 'utf8')).toBe('orig\n');
      await expect(fetchDebianSource('demo', '1.0-1', good)).resolves.toMatchObject({ hit: true });
    } finally {
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
