/**
 * `image build`: pins → rendered flake → `nix develop` environment → closure →
 * deterministic layers → OCI layout → streamed into the engine as a docker-archive.
 * A content-keyed cache answers unchanged images without touching nix.
 */

import type { PlannedImage } from '../plan/plan.js';
import { buildFreshImage } from './freshImage.js';
import { cachedImage, type ImageBuildOptions, type ImageBuildResult } from './imageCache.js';

/** The image from the content-keyed cache, or built fresh from its pins. */
export async function buildImage(
  image: PlannedImage,
  opts: ImageBuildOptions = {},
): Promise<ImageBuildResult> {
  if (!opts.rebuild) {
    const hit = await cachedImage(image.cacheKey);
    if (hit) return hit;
  }
  return buildFreshImage(image, opts);
}
