/**
 * `image build`: pins → rendered flake → `nix develop` environment → closure →
 * deterministic layers → OCI layout + docker-archive → loaded into the engine.
 * A content-keyed cache answers unchanged images without touching nix.
 */
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closure, buildFlake } from '../nix/nix.js';
import { lockedPin } from '../pins/resolve.js';
import { writeFileAtomic } from '../util/atomic.js';
import { ConfigError } from '../util/errors.js';
import { cacheDir } from '../util/paths.js';
import { toolVersion } from '../util/version.js';
import type { Workspace } from '../workspace/load.js';
import type { ImageDef } from '../workspace/schema.js';
import { imageCacheKey } from './cacheKey.js';
import { printDevEnv, storePathsIn } from './devEnv.js';
import { assembleImage } from './assemble.js';
import { renderFlake } from './renderFlake.js';

export interface ImageBuildResult {
  image: string;
  id: string;
  layers: number;
  cached: boolean;
  tag: string;
  key: string;
  archive: string;
  ociDir: string;
  layerDigests: string[];
  /** Bytes of the docker-archive, checked on every cache hit. */
  archiveSize: number;
}

export interface ImageBuildOptions {
  rebuild?: boolean;
  signal?: AbortSignal;
  /** Progress lines for a spinner or a log. */
  onStep?: (step: string) => void;
}

export function imageDir(key: string): string {
  return join(cacheDir(), 'images', key);
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/**
 * A previously built image with this key, if it is intact: the config blob must
 * still hash to the image ID and the archive must have its recorded size. A
 * damaged entry counts as a miss, so the next build heals it.
 */
export async function cachedImage(key: string): Promise<ImageBuildResult | undefined> {
  const dir = imageDir(key);
  try {
    const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as ImageBuildResult;
    const config = await readFile(join(result.ociDir, 'blobs', 'sha256', result.id.slice('sha256:'.length)));
    if (`sha256:${createHash('sha256').update(config).digest('hex')}` !== result.id) return undefined;
    if ((await stat(result.archive)).size !== result.archiveSize) return undefined;
    if (!existsSync(join(result.ociDir, 'index.json'))) return undefined;
    return { ...result, cached: true };
  } catch {
    return undefined;
  }
}

export async function buildImage(ws: Workspace, name: string, opts: ImageBuildOptions = {}): Promise<ImageBuildResult> {
  const entry = ws.images.get(name);
  if (!entry) {
    throw new ConfigError(
      [{ file: 'images/', line: 1, col: 1, message: `image "${name}" does not exist, expected one of: ${[...ws.images.keys()].join(', ')}` }],
    );
  }
  const def = entry.value;
  const key = imageCacheKey(ws, def, toolVersion());
  if (!opts.rebuild) {
    const hit = await cachedImage(key);
    if (hit) return hit;
  }
  const step = opts.onStep ?? (() => {});
  step(`verifying pins of ${name}`);
  const main = await lockedPin(ws, def.pin);
  const extras = await Promise.all(def.extraPins.map((e) => lockedPin(ws, e.pin)));

  const dir = imageDir(key);
  const work = `${dir}.work-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, 'flake'), { recursive: true });
  try {
    const flake = renderFlake(name, def, main, extras);
    await writeFile(join(work, 'flake', 'flake.nix'), flake.flakeNix);
    await writeFile(join(work, 'flake', 'flake.lock'), flake.flakeLock);
    const system = main.pin.system;

    step('evaluating the nix develop environment');
    const devEnv = await printDevEnv(join(work, 'flake'), `devShells.${system}.default`);
    const fhsTarget = def.fhs
      ? (await buildFlake([`path:${join(work, 'flake')}#packages.${system}.fhs`], { signal: opts.signal }))[0]
      : undefined;
    const roots = [...new Set([...storePathsIn(devEnv), ...(fhsTarget ? [fhsTarget] : [])])].filter((p) => existsSync(p)).sort();

    step('computing the closure');
    const paths = await closure(roots, { signal: opts.signal });

    step(`assembling ${paths.length} store paths into layers`);
    const assembled = await assembleImage({
      name,
      def,
      devEnv,
      paths,
      fhsTarget,
      outDir: work,
      signal: opts.signal,
    });
    const result: ImageBuildResult = {
      image: name,
      id: assembled.id,
      layers: assembled.layerDigests.length,
      cached: false,
      tag: `reprorom/${name}:${shortId(assembled.id)}`,
      key,
      archive: join(dir, 'image.tar'),
      ociDir: join(dir, 'oci'),
      layerDigests: assembled.layerDigests,
      archiveSize: (await stat(join(work, 'image.tar'))).size,
    };
    await writeFileAtomic(join(work, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    // The finished folder appears in one rename, so a cache entry is never half-written.
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
