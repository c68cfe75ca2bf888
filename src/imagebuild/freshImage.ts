/**
 * The uncached half of `image build`: verify pins, render the flake, take the
 * `nix develop` environment and closure, and assemble the image into the cache.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildFlake, closure } from '../nix/nix.js';
import { lockedPin } from '../pins/resolve.js';
import type { PlannedImage } from '../plan/plan.js';
import { writeFileAtomic } from '../util/atomic.js';
import { ImageBuildError } from '../util/errors.js';
import { assembleImage } from './assemble.js';
import { printDevEnv, storePathsIn } from './devEnv.js';
import { type ImageBuildOptions, type ImageBuildResult, imageDir, shortId } from './imageCache.js';
import { renderFlake } from './renderFlake.js';

export async function buildFreshImage(
  image: PlannedImage,
  opts: ImageBuildOptions,
): Promise<ImageBuildResult> {
  const { name, definition: def, cacheKey: key } = image;
  const step = opts.onStep ?? (() => {});
  step(`verifying pins of ${name}`);
  const [main, ...extras] = await Promise.all(image.pins.map((p) => lockedPin(image.root, p)));
  if (!main) throw new ImageBuildError(`image ${name} names no pin`, `add \`pin:\` to ${image.file}`);

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
    const roots = [...new Set([...storePathsIn(devEnv), ...(fhsTarget ? [fhsTarget] : [])])]
      .filter((p) => existsSync(p))
      .sort();

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
      ociDir: join(dir, 'oci'),
      layerDigests: assembled.layerDigests,
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
