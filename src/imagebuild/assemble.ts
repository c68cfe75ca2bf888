/**
 * From a closure and an environment to an image on disk: plans the layers,
 * writes each as a normalized tar, adds the root layer and the config.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { planLayers, type StorePathInfo } from '../image/layerPlan.js';
import { rootLayerEntries } from '../image/rootLayer.js';
import { type LayerSource, writeImage } from '../image/writeImage.js';
import { ImageBuildError } from '../util/errors.js';
import type { ImageDef } from '../workspace/schema.js';

/** Store-path layers; with the root layer the image stays well under Docker's 125. */
export const MAX_STORE_LAYERS = 100;

export interface AssembleInput {
  name: string;
  def: ImageDef;
  devEnv: Record<string, string>;
  paths: StorePathInfo[];
  fhsTarget: string | undefined;
  outDir: string;
  signal?: AbortSignal;
}

/** The first PATH entry that holds `program`, as an absolute store path. */
function findOnPath(path: string, program: string): string | undefined {
  for (const dir of path.split(':')) {
    if (dir && existsSync(join(dir, program))) return join(dir, program);
  }
  return undefined;
}

/** The image's environment: the devShell's, then the image file's, then fixed values for builds. */
export function imageEnv(def: ImageDef, devEnv: Record<string, string>, fhs: boolean): string[] {
  const env: Record<string, string> = { ...devEnv };
  // nix starts PATH as /path-not-set before setup scripts append to it; it means nothing in an image.
  const devPath = (devEnv['PATH'] ?? '').split(':').filter((d) => d !== '' && d !== '/path-not-set');
  const path = [...devPath, ...(fhs ? ['/usr/bin', '/bin', '/usr/sbin', '/sbin'] : [])].join(':');
  Object.assign(env, {
    PATH: path || '/bin:/usr/bin',
    HOME: '/build/home',
    USER: def.user.name,
    LANG: 'C.UTF-8',
    TZ: 'UTC',
  });
  Object.assign(env, def.env);
  return Object.keys(env)
    .sort()
    .map((k) => `${k}=${env[k]}`);
}

export async function assembleImage(input: AssembleInput): Promise<{ id: string; layerDigests: string[] }> {
  const { def } = input;
  const plan = planLayers(input.paths, {
    maxLayers: MAX_STORE_LAYERS,
    ...(input.fhsTarget ? { roots: [input.fhsTarget] } : {}),
  });
  const path = input.devEnv['PATH'] ?? '';
  const shell = findOnPath(path, 'sh') ?? findOnPath(path, 'bash');
  if (!input.fhsTarget && !shell) {
    throw new ImageBuildError(
      `image ${input.name} has no shell: no sh or bash in its packages`,
      'add a shell package (bash, busybox) to the image, or use fhs: with a toolchain tree',
    );
  }
  const env = findOnPath(path, 'env');
  const layers: LayerSource[] = [
    ...plan.map((group) => ({
      kind: 'trees' as const,
      trees: group.map((p) => ({ hostPath: p, imagePath: p.slice(1) })),
    })),
    {
      kind: 'entries',
      entries: rootLayerEntries({
        user: def.user,
        ...(shell ? { shell } : {}),
        ...(env ? { env } : {}),
        ...(input.fhsTarget && def.fhs ? { fhs: { target: input.fhsTarget, links: def.fhs.links } } : {}),
      }),
    },
  ];
  const written = await writeImage(
    {
      layers,
      config: {
        env: imageEnv(def, input.devEnv, Boolean(input.fhsTarget)),
        cmd: ['/bin/sh'],
        workingDir: '/build',
        user: `${def.user.uid}:${def.user.uid}`,
        labels: { 'org.reprorom.image': input.name },
      },
    },
    {
      ociDir: join(input.outDir, 'oci'),
      refName: input.name,
      repoTag: (id) => `reprorom/${input.name}:${id.slice('sha256:'.length, 'sha256:'.length + 12)}`,
      ...(input.signal ? { signal: input.signal } : {}),
    },
  );
  return { id: written.id, layerDigests: written.layerDigests };
}
