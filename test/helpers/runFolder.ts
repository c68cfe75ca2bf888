/**
 * One run of one board as `reprorom build` leaves it (artifacts/, manifest.json and,
 * if asked, hashes.txt), without an engine: for tests of merge, compare and reports.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatManifest } from '../../src/hashes/runManifest.js';

export const sha256Of = (text: string): string => createHash('sha256').update(text).digest('hex');

export interface FakeRun {
  board: string;
  runId: string;
  index: number;
  machine?: string;
  /** File name under artifacts/. */
  artifact: string;
  bytes: string;
  durationMs: number;
  narHash: string;
  /** `sha256:…` */
  imageId: string;
  sourceHash: string;
  hashesTxt?: boolean;
  /** The board's build commands (default `["make"]`). */
  commands?: readonly string[];
}

/** Writes the run into `out` (…/RUN/BOARD/INDEX). */
export async function writeFakeRun(out: string, r: FakeRun): Promise<void> {
  const path = `artifacts/${r.artifact}`;
  await mkdir(join(out, 'artifacts'), { recursive: true });
  await writeFile(join(out, path), r.bytes);
  if (r.hashesTxt) await writeFile(join(out, 'hashes.txt'), `${sha256Of(r.bytes)}  ${path}\n`);
  await writeFile(
    join(out, 'manifest.json'),
    formatManifest({
      schema: 'reprorom.manifest/v1',
      tool: { name: 'reprorom', version: '0.1.0' },
      board: r.board,
      run: { id: r.runId, index: r.index, ...(r.machine ? { machine: r.machine } : {}) },
      source: { type: 'local', hash: r.sourceHash },
      pin: { name: 'offline', flake: 'path:./pins/offline', narHash: r.narHash },
      image: { name: 'firmware', id: r.imageId },
      commands: r.commands ? [...r.commands] : ['make'],
      env: {},
      sourceDateEpoch: 1,
      variations: {
        hostname: 'h',
        uid: 1000,
        umask: '0022',
        tz: 'UTC',
        locale: 'C',
        jobs: 1,
        fileOrder: 'sorted',
      },
      artifacts: [{ path, sha256: sha256Of(r.bytes), size: Buffer.byteLength(r.bytes) }],
      durationMs: r.durationMs,
      exitCode: 0,
      result: 'ok',
    }),
  );
}
