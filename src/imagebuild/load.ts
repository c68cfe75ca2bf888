import type { Engine } from '../engine/port.js';
import { dockerArchiveStream } from '../image/dockerArchive.js';
import { ImageBuildError } from '../util/errors.js';

/**
 * Make sure the engine has exactly this image, streaming it in when it does
 * not, and tag it. A loaded ID that differs from the computed one is a failure:
 * the engine would otherwise run something other than what was pinned.
 */
export async function ensureLoaded(
  engine: Engine,
  image: { id: string; tag: string; ociDir: string },
  signal?: AbortSignal,
  /** Told just before the image is streamed in (not when the engine has it already). */
  onLoading?: () => void,
): Promise<void> {
  const present = await engine.inspectImage(image.id);
  if (!present) {
    onLoading?.();
    const loaded = await engine.loadImage(await dockerArchiveStream(image.ociDir), { signal });
    if (loaded !== image.id) {
      throw new ImageBuildError(
        `the engine loaded image ${loaded}, but reprorom computed ${image.id}`,
        'remove the cache entry with `reprorom image build NAME --rebuild` and report this as a bug',
      );
    }
  }
  if (!present?.repoTags.includes(image.tag)) await engine.tagImage(image.id, image.tag);
}
