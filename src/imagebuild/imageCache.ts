/**
 * Where built images live: one folder per content key under the cache, with the
 * result of the build that wrote it. Both the cache lookup (buildImage.ts) and the
 * fresh build (freshImage.ts) use it, so neither imports the other.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { layoutIntact } from '../image/readLayout.js';
import { cacheDir } from '../util/paths.js';

export interface ImageBuildResult {
  image: string;
  id: string;
  layers: number;
  cached: boolean;
  tag: string;
  key: string;
  ociDir: string;
  layerDigests: string[];
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
 * still hash to the image ID and every layer blob must have its recorded size. A
 * damaged entry counts as a miss, so the next build heals it.
 */
export async function cachedImage(key: string): Promise<ImageBuildResult | undefined> {
  const dir = imageDir(key);
  try {
    const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as ImageBuildResult;
    if (typeof result.id !== 'string' || typeof result.ociDir !== 'string') return undefined;
    if (!(await layoutIntact(result.ociDir, result.id))) return undefined;
    return { ...result, cached: true };
  } catch {
    return undefined;
  }
}
