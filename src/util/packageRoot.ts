import { fileURLToPath } from 'node:url';

/**
 * The folder reprorom is installed in (package.json, pins/offline, images/firmware.yaml):
 * two levels above this module, whether it runs from dist/util/, dist/bundle/ or src/util/.
 */
export function packageRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}
