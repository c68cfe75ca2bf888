/** sha256File sizes its read buffer to the file: the hash is the same for empty, small and multi-chunk files. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Bytes, sha256File } from '../../src/util/sha256.js';

describe('sha256File', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  it.each([[0], [1], [4096], [1024 * 1024], [1024 * 1024 + 1], [3 * 1024 * 1024 + 7]])(
    'a file of %i bytes hashes as its bytes do',
    async (size) => {
      dir ||= await mkdtemp(join(tmpdir(), 'rr-sha-'));
      const data = randomBytes(size);
      const file = join(dir, `f${size}`);
      await writeFile(file, data);
      expect(await sha256File(file)).toBe(sha256Bytes(data));
    },
  );
});
