import { createHash } from 'node:crypto';
import { canonicalJson } from '../image/digest.js';
import type { ImageDef, Pin } from '../workspace/schema.js';
import type { Entry } from '../workspace/types.js';

/** Bump when the image layout changes, so old cache entries are not reused. */
export const IMAGE_FORMAT = 2;

/**
 * The content key of an image: its definition, the pinned hashes it uses and the
 * tool version. Declared narHashes are enough: a cache entry was only ever written
 * after the content was verified against exactly these hashes.
 */
export function imageCacheKey(
  def: ImageDef,
  pinEntries: ReadonlyArray<Entry<Pin>>,
  toolVersion: string,
): string {
  const pins = pinEntries.map(({ name, value }) => ({
    name,
    flake: value.flake,
    narHash: value.narHash,
    packageSet: value.packageSet,
    system: value.system,
  }));
  const material = canonicalJson({ format: IMAGE_FORMAT, tool: toolVersion, image: def, pins });
  return createHash('sha256').update(material).digest('hex');
}
