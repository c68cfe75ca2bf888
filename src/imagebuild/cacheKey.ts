import { createHash } from 'node:crypto';
import { canonicalJson } from '../image/digest.js';
import type { Workspace } from '../workspace/load.js';
import type { ImageDef } from '../workspace/schema.js';

/** Bump when the image layout changes, so old cache entries are not reused. */
export const IMAGE_FORMAT = 2;

/**
 * The content key of an image: its definition, the pinned hashes it uses and the
 * tool version. Declared narHashes are enough: a cache entry was only ever written
 * after the content was verified against exactly these hashes.
 */
export function imageCacheKey(ws: Workspace, def: ImageDef, toolVersion: string): string {
  const pins = [def.pin, ...def.extraPins.map((e) => e.pin)].map((name) => {
    const pin = ws.pins.get(name)?.value;
    return {
      name,
      flake: pin?.flake,
      narHash: pin?.narHash,
      packageSet: pin?.packageSet,
      system: pin?.system,
    };
  });
  const material = canonicalJson({ format: IMAGE_FORMAT, tool: toolVersion, image: def, pins });
  return createHash('sha256').update(material).digest('hex');
}
