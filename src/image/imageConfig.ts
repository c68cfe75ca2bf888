/**
 * The JSON documents of an image: the OCI config (whose sha256 is the image ID),
 * the OCI manifest and index, and docker-archive's manifest.json. All are
 * serialised with canonicalJson (sorted keys, no whitespace), so equal inputs
 * give equal bytes.
 *
 * The config has no `created` field and no `history`: both are optional in the
 * OCI image spec, and leaving them out keeps the ID free of any time at all
 * (a fixed epoch-1 date would also be stable, but it is a made-up claim that
 * tools then show as "56 years ago"). Nothing from the host goes in: no host
 * name, no build path, no user; only what the caller puts in `ImageConfigSpec`.
 */
import { ImageBuildError } from '../util/errors.js';
import { canonicalJson, sha256Digest } from './digest.js';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** containerd (and Docker ≥ 25 loading OCI archives) reads the full name from here. */
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';

export interface ImageConfigSpec {
  /** `KEY=value` entries, in the order given (the caller decides; the env filter sorts them). */
  env: string[];
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface Blob {
  bytes: Buffer;
  digest: string;
  size: number;
}

const blobOf = (json: string): Blob => {
  const bytes = Buffer.from(json, 'utf8');
  return { bytes, digest: sha256Digest(bytes), size: bytes.length };
};

/** The OCI image config; its digest is the image ID Docker reports after `docker load`. */
export function imageConfig(
  spec: ImageConfigSpec,
  diffIds: readonly string[],
  platform: { architecture: string; os: string } = { architecture: 'amd64', os: 'linux' },
): Buffer {
  for (const e of spec.env) {
    if (!/^[^=]+=/.test(e)) {
      throw new ImageBuildError(
        `image environment entry "${e}" is not KEY=value`,
        'pass each variable as KEY=value',
      );
    }
  }
  for (const d of diffIds) {
    if (!/^sha256:[0-9a-f]{64}$/.test(d))
      throw new ImageBuildError(`"${d}" is not a sha256 layer digest`, 'report this as a bug in reprorom');
  }
  const config: Record<string, unknown> = { Env: spec.env };
  if (spec.entrypoint) config['Entrypoint'] = spec.entrypoint;
  if (spec.cmd) config['Cmd'] = spec.cmd;
  if (spec.workingDir) config['WorkingDir'] = spec.workingDir;
  if (spec.user) config['User'] = spec.user;
  if (spec.labels && Object.keys(spec.labels).length > 0) config['Labels'] = spec.labels;
  return Buffer.from(
    canonicalJson({
      architecture: platform.architecture,
      os: platform.os,
      config,
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
    'utf8',
  );
}

export function configBlob(...args: Parameters<typeof imageConfig>): Blob {
  return blobOf(imageConfig(...args).toString('utf8'));
}

export function manifestBlob(config: Descriptor, layers: readonly Descriptor[]): Blob {
  return blobOf(
    canonicalJson({
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
}

/** index.json of the OCI layout, naming the one manifest by `refName` (the tag tools such as umoci use). */
export function indexJson(manifest: Descriptor, refName: string, repoTag?: string): string {
  const annotations: Record<string, string> = { [REF_NAME_ANNOTATION]: refName };
  if (repoTag) annotations[CONTAINERD_NAME_ANNOTATION] = repoTag;
  return canonicalJson({
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: [{ mediaType: MEDIA.manifest, digest: manifest.digest, size: manifest.size, annotations }],
  });
}

export const OCI_LAYOUT = canonicalJson({ imageLayoutVersion: '1.0.0' });

/** docker-archive's manifest.json, pointing at the same blobs as the OCI layout. */
export function dockerManifestJson(
  configDigest: string,
  layerDigests: readonly string[],
  repoTags: readonly string[],
): string {
  const path = (d: string) => `blobs/sha256/${d.slice('sha256:'.length)}`;
  return canonicalJson([{ Config: path(configDigest), Layers: layerDigests.map(path), RepoTags: repoTags }]);
}
