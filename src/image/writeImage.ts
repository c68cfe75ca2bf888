/**
 * Writes an image to disk as an OCI image layout folder (oci-layout, index.json,
 * blobs/sha256/…), read by skopeo, umoci and registries' tools, and, only when
 * asked, a docker-archive file of the same blobs (see dockerArchive.ts).
 * Layers stream from disk to disk and are hashed while written. Outputs appear by rename, so a
 * reader sees a whole image or none. The image ID is `sha256:` + the sha256 of
 * the config bytes, which is exactly what Docker reports after loading it.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tempSibling, writeFileAtomic } from '../util/atomic.js';
import { hexOf } from './digest.js';
import { writeDockerArchive } from './dockerArchive.js';
import {
  configBlob,
  dockerManifestJson,
  type ImageConfigSpec,
  indexJson,
  MEDIA,
  manifestBlob,
  OCI_LAYOUT,
} from './imageConfig.js';
import { type LayerEntry, type TreeSource, treesLayer, type WrittenBlob, writeLayer } from './tarLayer.js';

/** What one layer holds: whole trees from disk (store paths) or ready-made entries (the root layer). */
export type LayerSource =
  | { kind: 'trees'; trees: readonly TreeSource[] }
  | { kind: 'entries'; entries: Iterable<LayerEntry> | AsyncIterable<LayerEntry> };

export interface ImageSpec {
  /** Bottom layer first. */
  layers: readonly LayerSource[];
  config: ImageConfigSpec;
  architecture?: 'amd64';
  os?: 'linux';
  /** Seconds since the epoch for every tar entry (layers and archive); default 1. */
  mtime?: number;
}

export interface ImageOutput {
  /** The OCI layout folder; replaced as a whole if it exists. */
  ociDir: string;
  /** The docker-archive file, if one is wanted; replaced if it exists. Loading needs none (see dockerArchive.ts). */
  dockerArchive?: string;
  /** e.g. `reprorom/NAME:SHORTID`; a function gets the image ID. Not part of the ID. */
  repoTag?: string | ((id: string) => string);
  /** index.json's org.opencontainers.image.ref.name; default the repo tag's tag, else `latest`. */
  refName?: string;
  signal?: AbortSignal;
}

export interface WrittenImage {
  /** `sha256:<config digest>`: the ID Docker reports after `docker load`. */
  id: string;
  manifestDigest: string;
  /** Layer digests (= diff_ids, the layers are uncompressed), bottom first. */
  layerDigests: string[];
  layerSizes: number[];
  repoTag: string | undefined;
  refName: string;
  ociDir: string;
  dockerArchive: string | undefined;
}

/** The tag part of `repo:tag` (a `:` before the last `/` belongs to a registry port). */
function tagOf(repoTag: string | undefined): string | undefined {
  if (!repoTag) return undefined;
  const colon = repoTag.lastIndexOf(':');
  return colon > repoTag.lastIndexOf('/') ? repoTag.slice(colon + 1) : undefined;
}

export interface LayoutResult {
  id: string;
  manifestDigest: string;
  repoTag: string | undefined;
  refName: string;
  blobDigests: string[];
  dockerManifest: string;
  index: string;
}

/**
 * Given layer blobs already in `<dir>/blobs/sha256/`, write the config and
 * manifest blobs, index.json and oci-layout: the folder is then an OCI layout.
 */
export async function finishLayout(
  dir: string,
  layers: readonly WrittenBlob[],
  spec: Pick<ImageSpec, 'config' | 'architecture' | 'os'>,
  naming: Pick<ImageOutput, 'repoTag' | 'refName'>,
): Promise<LayoutResult> {
  const blobs = join(dir, 'blobs', 'sha256');
  const layerDigests = layers.map((l) => l.digest);
  const config = configBlob(spec.config, layerDigests, {
    architecture: spec.architecture ?? 'amd64',
    os: spec.os ?? 'linux',
  });
  const manifest = manifestBlob(
    { mediaType: MEDIA.config, digest: config.digest, size: config.size },
    layers.map((l) => ({ mediaType: MEDIA.layer, digest: l.digest, size: l.size })),
  );
  await writeFileAtomic(join(blobs, hexOf(config.digest)), config.bytes);
  await writeFileAtomic(join(blobs, hexOf(manifest.digest)), manifest.bytes);
  const repoTag = typeof naming.repoTag === 'function' ? naming.repoTag(config.digest) : naming.repoTag;
  const refName = naming.refName ?? tagOf(repoTag) ?? 'latest';
  const index = indexJson(
    { mediaType: MEDIA.manifest, digest: manifest.digest, size: manifest.size },
    refName,
    repoTag,
  );
  await writeFileAtomic(join(dir, 'oci-layout'), OCI_LAYOUT);
  await writeFileAtomic(join(dir, 'index.json'), index);
  return {
    id: config.digest,
    manifestDigest: manifest.digest,
    repoTag,
    refName,
    blobDigests: [...new Set([...layerDigests, config.digest, manifest.digest])],
    dockerManifest: dockerManifestJson(config.digest, layerDigests, repoTag ? [repoTag] : []),
    index,
  };
}

/**
 * Write every layer, the config, the OCI layout and (if asked) the docker-archive. The
 * layout is built in a temp sibling folder and renamed into place at the end.
 */
export async function writeImage(spec: ImageSpec, out: ImageOutput): Promise<WrittenImage> {
  await mkdir(dirname(out.ociDir), { recursive: true });
  const work = tempSibling(out.ociDir);
  const blobs = join(work, 'blobs', 'sha256');
  try {
    await mkdir(blobs, { recursive: true });
    const layers: WrittenBlob[] = [];
    for (const layer of spec.layers) {
      const entries = layer.kind === 'trees' ? treesLayer(layer.trees) : layer.entries;
      layers.push(await writeLayer(entries, blobs, { mtime: spec.mtime, signal: out.signal }));
    }
    const layout = await finishLayout(work, layers, spec, out);
    if (out.dockerArchive)
      await writeDockerArchive(work, out.dockerArchive, layout, { mtime: spec.mtime, signal: out.signal });
    await rm(out.ociDir, { recursive: true, force: true });
    await rename(work, out.ociDir);
    return {
      id: layout.id,
      manifestDigest: layout.manifestDigest,
      layerDigests: layers.map((l) => l.digest),
      layerSizes: layers.map((l) => l.size),
      repoTag: layout.repoTag,
      refName: layout.refName,
      ociDir: out.ociDir,
      dockerArchive: out.dockerArchive,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
