/**
 * Reads back an OCI layout written by writeImage: which blobs make the image and
 * whether they are all there, intact in size. Enough to load the image, export a
 * docker-archive, or decide that a cache entry is damaged, without re-hashing
 * every layer.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hexOf } from './digest.js';
import { CONTAINERD_NAME_ANNOTATION, dockerManifestJson } from './imageConfig.js';

export interface Blob {
  digest: string;
  size: number;
}

export interface Layout {
  /** `sha256:` + the config digest: the image ID. */
  id: string;
  config: Blob;
  manifest: Blob;
  layers: Blob[];
  repoTag: string | undefined;
  index: string;
  /** docker-archive's manifest.json for these blobs. */
  dockerManifest: string;
  /** Every blob the image needs, each once. */
  blobDigests: string[];
}

interface Descriptor {
  digest?: unknown;
  size?: unknown;
  annotations?: Record<string, unknown>;
}

export function blobPath(ociDir: string, digest: string): string {
  return join(ociDir, 'blobs', 'sha256', hexOf(digest));
}

function descriptor(d: Descriptor | undefined, what: string): Blob {
  if (
    !d ||
    typeof d.digest !== 'string' ||
    !/^sha256:[0-9a-f]{64}$/.test(d.digest) ||
    typeof d.size !== 'number'
  )
    throw new Error(`${what}: not a sha256 descriptor`);
  return { digest: d.digest, size: d.size };
}

/** Parse index.json and the manifest blob; throws on anything malformed. */
export async function readLayout(ociDir: string): Promise<Layout> {
  const index = await readFile(join(ociDir, 'index.json'), 'utf8');
  const top = (JSON.parse(index) as { manifests?: Descriptor[] }).manifests?.[0];
  const manifest = descriptor(top, 'index.json');
  const manifestBytes = await readFile(blobPath(ociDir, manifest.digest));
  const parsed = JSON.parse(manifestBytes.toString('utf8')) as { config?: Descriptor; layers?: Descriptor[] };
  const config = descriptor(parsed.config, 'manifest config');
  const layers = (parsed.layers ?? []).map((l, i) => descriptor(l, `manifest layer ${i}`));
  const name = top?.annotations?.[CONTAINERD_NAME_ANNOTATION];
  const repoTag = typeof name === 'string' ? name : undefined;
  const layerDigests = layers.map((l) => l.digest);
  return {
    id: config.digest,
    config,
    manifest,
    layers,
    repoTag,
    index,
    dockerManifest: dockerManifestJson(config.digest, layerDigests, repoTag ? [repoTag] : []),
    blobDigests: [...new Set([...layerDigests, config.digest, manifest.digest])],
  };
}

/**
 * True when the layout is whole: the config still hashes to the ID (the ID is
 * what gets trusted), and every other blob exists with its recorded size.
 */
export async function layoutIntact(ociDir: string, expectedId: string): Promise<boolean> {
  try {
    const layout = await readLayout(ociDir);
    if (layout.id !== expectedId) return false;
    const config = await readFile(blobPath(ociDir, layout.config.digest));
    if (`sha256:${createHash('sha256').update(config).digest('hex')}` !== expectedId) return false;
    for (const blob of [layout.manifest, ...layout.layers]) {
      if ((await stat(blobPath(ociDir, blob.digest))).size !== blob.size) return false;
    }
    return true;
  } catch {
    return false;
  }
}
