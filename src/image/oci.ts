/**
 * The image's metadata and its two on-disk forms: an OCI image layout (for
 * skopeo, umoci, registries) and a docker-archive (for `docker load`). Both hold
 * the same blobs; the image ID is the sha256 of the config bytes.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Header, pack } from 'tar-stream';
import { canonicalJson } from '../imagebuild/renderFlake.js';
import { tempSibling, writeFileAtomic } from '../util/atomic.js';
import type { WrittenBlob } from './layerTar.js';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export interface ImageConfigSpec {
  env: string[];
  cmd?: string[];
  entrypoint?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
}

/**
 * OCI config with no `created` time and no history: nothing in it depends on when
 * or where it was built (both fields are optional in the OCI spec).
 */
export function imageConfig(spec: ImageConfigSpec, diffIds: string[]): Buffer {
  const config: Record<string, unknown> = { Env: spec.env };
  if (spec.entrypoint) config['Entrypoint'] = spec.entrypoint;
  if (spec.cmd) config['Cmd'] = spec.cmd;
  if (spec.workingDir) config['WorkingDir'] = spec.workingDir;
  if (spec.user) config['User'] = spec.user;
  if (spec.labels && Object.keys(spec.labels).length > 0) config['Labels'] = spec.labels;
  return Buffer.from(
    canonicalJson(
      { architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: diffIds } },
      0,
    ),
  );
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hexOf = (digest: string) => digest.slice('sha256:'.length);

export interface WrittenImage {
  id: string;
  manifestDigest: string;
  layerDigests: string[];
  ociDir: string;
  archive: string;
}

async function writeBlob(blobsDir: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha(data);
  await writeFileAtomic(join(blobsDir, hexOf(digest)), data);
  return { digest, size: data.length };
}

/**
 * Write config, manifest and index next to the already written layer blobs
 * (`<ociDir>/blobs/sha256/`), then the docker-archive from the same files.
 */
export async function writeImage(opts: {
  ociDir: string;
  archive: string;
  layers: WrittenBlob[];
  config: ImageConfigSpec;
  refName: string;
  repoTag: (id: string) => string;
}): Promise<WrittenImage> {
  const blobs = join(opts.ociDir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const layerDigests = opts.layers.map((l) => l.digest);
  const config = await writeBlob(blobs, imageConfig(opts.config, layerDigests));
  const manifest = await writeBlob(
    blobs,
    Buffer.from(
      canonicalJson(
        {
          schemaVersion: 2,
          mediaType: MEDIA.manifest,
          config: { mediaType: MEDIA.config, digest: config.digest, size: config.size },
          layers: opts.layers.map((l) => ({ mediaType: MEDIA.layer, digest: l.digest, size: l.size })),
        },
        0,
      ),
    ),
  );
  const index = canonicalJson(
    {
      schemaVersion: 2,
      mediaType: MEDIA.index,
      manifests: [
        {
          mediaType: MEDIA.manifest,
          digest: manifest.digest,
          size: manifest.size,
          annotations: { 'org.opencontainers.image.ref.name': opts.refName },
        },
      ],
    },
    0,
  );
  await writeFile(join(opts.ociDir, 'index.json'), index);
  await writeFile(join(opts.ociDir, 'oci-layout'), canonicalJson({ imageLayoutVersion: '1.0.0' }, 0));
  const dockerManifest = canonicalJson(
    [
      {
        Config: `blobs/sha256/${hexOf(config.digest)}`,
        Layers: layerDigests.map((d) => `blobs/sha256/${hexOf(d)}`),
        RepoTags: [opts.repoTag(config.digest)],
      },
    ],
    0,
  );
  await writeDockerArchive(
    opts.ociDir,
    opts.archive,
    [...new Set([...layerDigests, config.digest, manifest.digest])],
    {
      'index.json': index,
      'manifest.json': dockerManifest,
      'oci-layout': canonicalJson({ imageLayoutVersion: '1.0.0' }, 0),
    },
  );
  return {
    id: config.digest,
    manifestDigest: manifest.digest,
    layerDigests,
    ociDir: opts.ociDir,
    archive: opts.archive,
  };
}

/** A tar of the OCI blobs plus docker's manifest.json: sorted entries, fixed metadata. */
async function writeDockerArchive(
  ociDir: string,
  archive: string,
  digests: string[],
  files: Record<string, string>,
): Promise<void> {
  await mkdir(dirname(archive), { recursive: true });
  const tmp = tempSibling(archive);
  const tar = pack();
  const fixed = { uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(1000) };
  const done = pipeline(tar, createWriteStream(tmp));
  const feed = async () => {
    tar.entry({ ...fixed, name: 'blobs', type: 'directory', mode: 0o755 } as Header);
    tar.entry({ ...fixed, name: 'blobs/sha256', type: 'directory', mode: 0o755 } as Header);
    for (const hex of digests.map(hexOf).sort()) {
      const path = join(ociDir, 'blobs', 'sha256', hex);
      const { size } = await stat(path);
      await new Promise<void>((resolve, reject) => {
        const sink = tar.entry(
          { ...fixed, name: `blobs/sha256/${hex}`, type: 'file', mode: 0o644, size } as Header,
          (err) => (err ? reject(err) : resolve()),
        );
        createReadStream(path, { highWaterMark: 1024 * 1024 })
          .on('error', reject)
          .pipe(sink);
      });
    }
    for (const name of Object.keys(files).sort()) {
      tar.entry({ ...fixed, name, type: 'file', mode: 0o644 } as Header, files[name]!);
    }
    tar.finalize();
  };
  try {
    await Promise.all([feed(), done]);
    await rename(tmp, archive);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
