/**
 * The source tar a run streams into its container. A container that exits (or a signal that
 * stops the build) closes the stream half-way: that must end the writer quietly, never as an
 * uncaught stream error that kills the process before it removes its containers.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sourceTar } from '../../src/runs/sourceTar.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rr-srctar-'));
  // Larger than the stream buffers, so the writer is inside this file when the reader leaves.
  for (const name of ['a.bin', 'b.bin']) await writeFile(join(dir, name), Buffer.alloc(8 << 20, 1));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tarOf = () =>
  sourceTar(
    dir,
    [
      { rel: 'a.bin', kind: 'file', exec: false },
      { rel: 'b.bin', kind: 'file', exec: false },
    ],
    { prefix: 'src', uid: 1000, order: 'sorted', seed: 0, mtime: 1 },
  );

describe('sourceTar', () => {
  it('a reader that closes the stream mid-file ends the writer without an uncaught error', async () => {
    const uncaught: unknown[] = [];
    const record = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', record);
    try {
      const out = tarOf();
      // A few chunks in: the writer is then streaming a file into the current entry.
      await new Promise<void>((resolve) => {
        let chunks = 0;
        out.on('data', () => {
          if (++chunks === 5) {
            out.destroy();
            resolve();
          }
        });
      });
      // The writer stops early (it was inside a file), and only then is the teardown over;
      // one more turn of the event loop lets anything it left behind surface as uncaught.
      expect(await out.written).toBe(false);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('uncaughtException', record);
    }
    expect(uncaught).toEqual([]);
  });

  it('read to the end, it holds the folder and both files', async () => {
    const out = tarOf();
    let bytes = 0;
    for await (const chunk of out) bytes += (chunk as Buffer).length;
    expect(await out.written).toBe(true);
    // Three headers of 512 bytes, two 8 MiB bodies, and the two end blocks at least.
    expect(bytes).toBeGreaterThanOrEqual(3 * 512 + 2 * (8 << 20) + 1024);
  });
});
