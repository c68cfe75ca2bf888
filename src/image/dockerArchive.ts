/**
 * docker-archive forms of an image already in an OCI layout. Loading streams the
 * archive straight from the layout's blobs into the engine, so an image is never
 * written to disk twice; a file is written only when the user asks for one. Both
 * forms hold the same entries (archiveEntries), in the same order.
 */
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { OCI_LAYOUT } from './imageConfig.js';
import { blobPath, type Layout, readLayout } from './readLayout.js';
import { FIXED_MTIME } from './tarLayer.js';
import { writeTarFile } from './tarWriter.js';

type ArchiveLayout = Pick<Layout, 'blobDigests' | 'dockerManifest' | 'index'>;

type ArchiveEntry = { name: string; path: string; size: number } | { name: string; data: Buffer };

/** Every blob (sorted by digest), then index.json, docker's manifest.json and oci-layout. */
async function archiveEntries(ociDir: string, layout: ArchiveLayout): Promise<ArchiveEntry[]> {
  const blobs = await Promise.all(
    [...layout.blobDigests].sort().map(async (digest) => {
      const path = blobPath(ociDir, digest);
      return { name: `blobs/sha256/${digest.slice('sha256:'.length)}`, path, size: (await stat(path)).size };
    }),
  );
  return [
    ...blobs,
    { name: 'index.json', data: Buffer.from(layout.index) },
    { name: 'manifest.json', data: Buffer.from(layout.dockerManifest) },
    { name: 'oci-layout', data: Buffer.from(OCI_LAYOUT) },
  ];
}

/** The archive as a stream, for `docker load`. */
export async function dockerArchiveStream(ociDir: string): Promise<Readable> {
  const entries = await archiveEntries(ociDir, await readLayout(ociDir));
  const tar = pack();
  const fixed = { mode: 0o644, mtime: new Date(FIXED_MTIME * 1000), uid: 0, gid: 0 };
  const fill = async () => {
    for (const e of entries) {
      if ('data' in e) tar.entry({ ...fixed, name: e.name }, e.data);
      else await pipeline(createReadStream(e.path), tar.entry({ ...fixed, name: e.name, size: e.size }));
    }
    tar.finalize();
  };
  fill().catch((err: unknown) => tar.destroy(err instanceof Error ? err : new Error(String(err))));
  // tar-stream's pack is a streamx stream: wrap it as a Node stream for the HTTP client.
  return Readable.from(tar);
}

/**
 * A reproducible docker-archive file: entries sorted, folders first, fixed mtime,
 * uid/gid 0, no names. Written to a temp file, then renamed.
 */
export async function writeDockerArchive(
  ociDir: string,
  archive: string,
  layout: ArchiveLayout,
  opts: { mtime?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const entries = await archiveEntries(ociDir, layout);
  await mkdir(dirname(archive), { recursive: true });
  const fixed = { uid: 0, gid: 0, mtime: opts.mtime ?? FIXED_MTIME };
  await writeTarFile(
    archive,
    { hash: false, signal: opts.signal },
    async (tar) => {
      await tar.header({ ...fixed, name: 'blobs', type: 'directory', mode: 0o755, size: 0 });
      await tar.header({ ...fixed, name: 'blobs/sha256', type: 'directory', mode: 0o755, size: 0 });
      for (const e of entries) {
        if ('data' in e) await tar.data({ ...fixed, name: e.name, mode: 0o644 }, e.data);
        else {
          await tar.file({ ...fixed, name: e.name, mode: 0o644, size: e.size }, e.path);
          await tar.breathe();
        }
      }
    },
    () => archive,
  );
}

/** The `image build --out` file, from the layout in the cache. */
export async function exportDockerArchive(ociDir: string, file: string, signal?: AbortSignal): Promise<void> {
  await writeDockerArchive(ociDir, file, await readLayout(ociDir), signal ? { signal } : {});
}
