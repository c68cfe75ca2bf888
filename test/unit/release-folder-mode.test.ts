/** A release is published: its folder is made with the user's umask (0755 under 022), never 0700. */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeRelease } from '../../src/release/write.js';
import { writeFakeRun } from '../helpers/runFolder.js';

const root = await mkdtemp(join(tmpdir(), 'rr-release-mode-'));
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the release folder', () => {
  it('is created with the mode the umask gives (0755 under umask 022), like its board folders', async () => {
    const runs: string[] = [];
    for (const index of [1, 2]) {
      const dir = join(root, 'runs', 'RUN', 'qemu', String(index));
      await writeFakeRun(dir, {
        board: 'qemu',
        runId: 'RUN',
        index,
        artifact: 'bios.bin',
        bytes: 'same bytes',
        durationMs: 1,
        narHash: `sha256-${'Q'.repeat(43)}=`,
        imageId: `sha256:${'c'.repeat(64)}`,
        sourceHash: 'h',
      });
      runs.push(dir);
    }
    const previous = process.umask(0o022);
    try {
      const out = join(root, 'release');
      await writeRelease(out, [{ board: 'qemu', runDirs: runs }]);
      expect(((await stat(out)).mode & 0o777).toString(8)).toBe('755');
      expect(((await stat(join(out, 'qemu'))).mode & 0o777).toString(8)).toBe('755');
    } finally {
      process.umask(previous);
    }
  });
});
