/**
 * Writes one image layer as a tar with normalized metadata: entries in a fixed
 * order (parents first, children sorted bytewise), mtime fixed, uid/gid 0 unless
 * an entry says otherwise, empty user/group names, no time records, modes
 * normalized. Files stream from disk and the sha256 is computed while writing,
 * so a layer of gigabytes never sits in memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readlink, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Header, pack } from 'tar-stream';
import { ImageBuildError } from '../util/errors.js';

export type LayerEntry =
  | { name: string; type: 'dir'; mode?: number; uid?: number }
  | { name: string; type: 'symlink'; target: string }
  | { name: string; type: 'file'; mode: number; source: string; size: number }
  | { name: string; type: 'data'; mode: number; data: Buffer };

/** A folder on disk copied to `imagePath` (for example /nix/store/…-gcc → nix/store/…-gcc). */
export interface TreeSource {
  hostPath: string;
  imagePath: string;
}

export interface WrittenBlob {
  /** sha256:<hex> of the bytes written. */
  digest: string;
  size: number;
  path: string;
}

export const FIXED_MTIME = 1;

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Store content is read-only: folders 0555, files 0444, or 0555 when any exec bit is set. */
function storeMode(isDir: boolean, mode: number): number {
  if (isDir) return 0o555;
  return mode & 0o111 ? 0o555 : 0o444;
}

/** Walks a tree depth-first, children sorted bytewise, yielding normalized entries. */
export async function* walkTree(src: TreeSource): AsyncGenerator<LayerEntry> {
  const st = await lstat(src.hostPath);
  yield* walkEntry(src.hostPath, src.imagePath, st);
}

async function* walkEntry(
  host: string,
  name: string,
  st: Awaited<ReturnType<typeof lstat>>,
): AsyncGenerator<LayerEntry> {
  if (st.isSymbolicLink()) {
    yield { name, type: 'symlink', target: await readlink(host) };
  } else if (st.isDirectory()) {
    yield { name, type: 'dir', mode: storeMode(true, Number(st.mode)) };
    const children = (await readdir(host)).sort(byteOrder);
    for (const child of children) {
      const childHost = join(host, child);
      yield* walkEntry(childHost, `${name}/${child}`, await lstat(childHost));
    }
  } else if (st.isFile()) {
    yield {
      name,
      type: 'file',
      mode: storeMode(false, Number(st.mode)),
      source: host,
      size: Number(st.size),
    };
  } else {
    throw new ImageBuildError(
      `${host} is a special file (socket, device or fifo); it cannot go into an image`,
    );
  }
}

/** Folders that lead to a path (nix, nix/store for a store path), emitted once per layer. */
export function parentDirs(imagePath: string): string[] {
  const parts = imagePath.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

function headerFor(e: LayerEntry, mtime: Date): Header {
  const base = { name: e.name, uid: 0, gid: 0, uname: '', gname: '', mtime };
  switch (e.type) {
    case 'dir':
      return {
        ...base,
        type: 'directory',
        mode: e.mode ?? 0o755,
        uid: e.uid ?? 0,
        gid: e.uid ?? 0,
      } as Header;
    case 'symlink':
      return { ...base, type: 'symlink', linkname: e.target, mode: 0o777 } as Header;
    case 'file':
      return { ...base, type: 'file', mode: e.mode, size: e.size } as Header;
    case 'data':
      return { ...base, type: 'file', mode: e.mode, size: e.data.length } as Header;
  }
}

/** Hashes what passes through, so a blob is hashed in the same pass that writes it. */
export function hashingStream(): { stream: Transform; result: () => { digest: string; size: number } } {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, result: () => ({ digest: `sha256:${hash.digest('hex')}`, size }) };
}

/**
 * Write the entries as a tar into `dir/<hex>` (the OCI blob name) through a temp
 * file, so a blob is either complete or absent.
 */
export async function writeLayer(
  entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>,
  dir: string,
  opts: { mtime?: number; signal?: AbortSignal } = {},
): Promise<WrittenBlob> {
  const mtime = new Date((opts.mtime ?? FIXED_MTIME) * 1000);
  const tar = pack();
  const tmp = join(dir, `.layer-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  const { stream: hasher, result } = hashingStream();
  const written = pipeline(tar, hasher, createWriteStream(tmp), { signal: opts.signal });
  const feed = async () => {
    for await (const e of entries) {
      opts.signal?.throwIfAborted();
      const header = headerFor(e, mtime);
      if (e.type === 'file') {
        await new Promise<void>((resolve, reject) => {
          const sink = tar.entry(header, (err) => (err ? reject(err) : resolve()));
          createReadStream(e.source, { highWaterMark: 1024 * 1024 })
            .on('error', reject)
            .pipe(sink);
        });
      } else if (e.type === 'data') {
        await new Promise<void>((resolve, reject) =>
          tar.entry(header, e.data, (err) => (err ? reject(err) : resolve())),
        );
      } else {
        tar.entry(header);
      }
    }
    tar.finalize();
  };
  try {
    await Promise.all([
      feed().catch((err: unknown) => {
        tar.destroy(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }),
      written,
    ]);
    const { digest, size } = result();
    const final = join(dir, digest.slice('sha256:'.length));
    await rename(tmp, final);
    return { digest, size, path: final };
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Entries of a layer holding whole store paths (or any folders), with their parent folders. */
export async function* treesLayer(sources: readonly TreeSource[]): AsyncGenerator<LayerEntry> {
  const emitted = new Set<string>();
  const sorted = [...sources].sort((a, b) => byteOrder(a.imagePath, b.imagePath));
  for (const src of sorted) {
    for (const dir of parentDirs(src.imagePath)) {
      if (emitted.has(dir)) continue;
      emitted.add(dir);
      yield { name: dir, type: 'dir', mode: 0o755 };
    }
    yield* walkTree(src);
  }
}
