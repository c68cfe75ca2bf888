/**
 * Streams a prepared source tree into a tar for the container, owned by the
 * run's uid, with files created in the run's order (a reprotest variation).
 * Folders come first, parents before children, so every file lands in a folder
 * the build user owns.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { type CreationOrder, orderEntries } from '../sources/order.js';
import type { TreeEntry } from '../sources/tree.js';

export interface SourceTarOptions {
  /** Top folder name inside the tar (the container's /build/<prefix>). */
  prefix: string;
  uid: number;
  order: CreationOrder;
  seed: number;
  /** mtime of every entry (SOURCE_DATE_EPOCH), so timestamps never depend on the host. */
  mtime: number;
  /** Empty folders beside the prefix (e.g. the build user's home), in the same tar: one copy-in per run. */
  emptyDirs?: readonly string[];
  /** Files placed in the tree after the source (board inputs): `rel` under the prefix, bytes from `file`. */
  extraFiles?: ReadonlyArray<{ rel: string; file: string }>;
}

/** The archive stream, and when its writer stopped (tests await it instead of guessing a delay). */
export interface SourceTar extends Readable {
  /** Settles once the writer has stopped: true when it wrote the whole archive, false when the reader left first. */
  readonly written: Promise<boolean>;
}

export function sourceTar(dir: string, entries: readonly TreeEntry[], opts: SourceTarOptions): SourceTar {
  // The archive flows through `out` so it can be returned before the tar library is loaded.
  const out = new PassThrough();
  const mtime = new Date(opts.mtime * 1000);
  const owner = { uid: opts.uid, gid: opts.uid, uname: '', gname: '', mtime };
  const ordered = orderEntries(entries, opts.order, opts.seed);
  const dirs = ordered
    .filter((e) => e.kind === 'dir')
    .sort((a, b) => a.rel.split('/').length - b.rel.split('/').length);
  const rest = ordered.filter((e) => e.kind !== 'dir');
  const write = async () => {
    const tar = tarStream.pack();
    // An error on either side ends both: the reader sees it on `out`, the writer below stops.
    pipeline(tar, out, () => undefined);
    for (const d of opts.emptyDirs ?? []) tar.entry({ name: d, type: 'directory', mode: 0o755, ...owner });
    tar.entry({ name: opts.prefix, type: 'directory', mode: 0o755, ...owner });
    for (const e of dirs)
      tar.entry({ name: `${opts.prefix}/${e.rel}`, type: 'directory', mode: 0o755, ...owner });
    const addFile = async (name: string, path: string, exec: boolean) => {
      const { size } = await stat(path);
      // pipeline, not pipe(): a reader that leaves (the container exited, a signal) destroys the
      // tar and this entry with an error, which must reject here rather than go uncaught.
      await pipelineAsync(
        createReadStream(path),
        tar.entry({ name, type: 'file', size, mode: exec ? 0o755 : 0o644, ...owner }),
      );
    };
    for (const e of rest) {
      const name = `${opts.prefix}/${e.rel}`;
      if (e.kind === 'symlink') {
        tar.entry({ name, type: 'symlink', linkname: e.target, mode: 0o777, ...owner });
        continue;
      }
      if (e.kind !== 'file') continue;
      await addFile(name, join(dir, e.rel), e.exec);
    }
    // Inputs last, sorted, each after the folders it needs that the source does not have.
    const made = new Set(dirs.map((d) => d.rel));
    const extras = [...(opts.extraFiles ?? [])].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
    for (const x of extras) {
      const parts = x.rel.split('/');
      for (let n = 1; n < parts.length; n++) {
        const folder = parts.slice(0, n).join('/');
        if (made.has(folder)) continue;
        made.add(folder);
        tar.entry({ name: `${opts.prefix}/${folder}`, type: 'directory', mode: 0o755, ...owner });
      }
      await addFile(`${opts.prefix}/${x.rel}`, x.file, false);
    }
    tar.finalize();
  };
  const written = write().then(
    () => true,
    (err: unknown) => {
      out.destroy(err instanceof Error ? err : new Error(String(err)));
      return false;
    },
  );
  return Object.assign(out, { written });
}
