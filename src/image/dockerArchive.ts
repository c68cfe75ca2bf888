/**
 * docker-archive forms of an image already in an OCI layout. Loading streams the
 * archive straight from the layout's blobs into the engine, so an image is never
 * written to disk twice; a file is written only when the user asks for one.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { OCI_LAYOUT } from './imageConfig.js';
import { blobPath, readLayout } from './readLayout.js';
import { FIXED_MTIME } from './tarLayer.js';
import { writeDockerArchive } from './writeImage.js';

/** The archive as a stream, for `docker load`; its bytes need not be reproducible, only its blobs. */
export async function dockerArchiveStream(ociDir: string): Promise<Readable> {
  const layout = await readLayout(ociDir);
  const tar = pack();
  const mtime = new Date(FIXED_MTIME * 1000);
  const add = async (name: string, size: number, path: string) => {
    const entry = tar.entry({ name, size, mode: 0o644, mtime, uid: 0, gid: 0 });
    await pipeline(createReadStream(path), entry);
  };
  const fill = async () => {
    for (const digest of [...layout.blobDigests].sort()) {
      const path = blobPath(ociDir, digest);
      const { size } = await stat(path);
      await add(`blobs/sha256/${digest.slice('sha256:'.length)}`, size, path);
    }
    for (const [name, text] of [
      ['index.json', layout.index],
      ['manifest.json', layout.dockerManifest],
      ['oci-layout', OCI_LAYOUT],
    ] as const) {
      tar.entry({ name, mode: 0o644, mtime, uid: 0, gid: 0 }, text);
    }
    tar.finalize();
  };
  fill().catch((err: unknown) => tar.destroy(err instanceof Error ? err : new Error(String(err))));
  // tar-stream's pack is a streamx stream: wrap it as a Node stream for the HTTP client.
  return Readable.from(tar);
}

/** A reproducible docker-archive file (same layout, same bytes), written atomically. */
export async function exportDockerArchive(ociDir: string, file: string, signal?: AbortSignal): Promise<void> {
  const layout = await readLayout(ociDir);
  await writeDockerArchive(ociDir, file, layout, signal ? { signal } : {});
}
