/**
 * The one way an image becomes usable: answered from the content-keyed cache or built
 * from its pins, then loaded into the engine (unless the caller only wants the files).
 */
import type { Engine } from '../engine/docker.js';
import type { PlannedImage } from '../plan/plan.js';
import { buildImage } from './buildImage.js';
import type { ImageBuildResult } from './imageCache.js';
import { ensureLoaded } from './load.js';

export interface PrepareImageOptions {
  /** Ignore the cache and build from the pins again. */
  rebuild?: boolean;
  signal?: AbortSignal;
  onStep?: (step: string) => void;
}

/** Build (or take from the cache) and, with an engine, load and tag it. */
export async function prepareImage(
  image: PlannedImage,
  engine: Engine | undefined,
  opts: PrepareImageOptions = {},
): Promise<ImageBuildResult> {
  const built = await buildImage(image, opts);
  if (engine) {
    await engine.ping(); // a DOCKER_HOST that is not Docker is named as such, not as a broken pipe
    await ensureLoaded(engine, built, opts.signal, () => opts.onStep?.('loading into the Docker engine'));
  }
  return built;
}

/** How an executor gets its images; tests hand in their own. */
export type ImagePreparer = (
  image: PlannedImage,
  engine: Engine,
  opts: PrepareImageOptions,
) => Promise<Pick<ImageBuildResult, 'id' | 'tag'>>;
