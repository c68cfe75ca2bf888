import { cp } from 'node:fs/promises';
import { resolve } from 'node:path';
import { connectEngine } from '../../engine/docker.js';
import { exportDockerArchive } from '../../image/dockerArchive.js';
import type { ImageBuildResult } from '../../imagebuild/imageCache.js';
import { prepareImage } from '../../imagebuild/prepare.js';
import { planImage } from '../../plan/plan.js';
import { ExitCode } from '../../util/errors.js';
import { withInterrupts } from '../../util/interrupt.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import { printLine, printOutput } from '../output.js';
import { progress } from '../progress.js';

export interface ImageBuildCliOptions {
  workspace: string;
  out?: string;
  oci?: string;
  rebuild?: boolean;
  load: boolean;
  json?: boolean;
}

export async function runImageBuild(name: string, opts: ImageBuildCliOptions): Promise<number> {
  const image = planImage(await loadValidWorkspace(opts.workspace), name);
  const spinner = await progress(`image ${name}`);
  let result: ImageBuildResult;
  try {
    result = await withInterrupts((signal) =>
      prepareImage(image, opts.load ? connectEngine() : undefined, {
        ...(opts.rebuild ? { rebuild: true } : {}),
        signal,
        onStep: (s) => spinner.update(s),
      }),
    );
    spinner.done(`image ${name}: ${result.id}${result.cached ? ' (cached)' : ''}`);
  } catch (err) {
    spinner.fail(`image ${name} failed`);
    throw err;
  }
  if (opts.out) {
    await exportDockerArchive(result.ociDir, resolve(opts.out));
  }
  if (opts.oci) await cp(result.ociDir, resolve(opts.oci), { recursive: true });
  if (opts.json) {
    printOutput('image-build', {
      schema: 'reprorom.image-build/v1',
      ok: true,
      image: result.image,
      id: result.id,
      layers: result.layers,
      cached: result.cached,
      tag: result.tag,
    });
  } else {
    printLine(result.id);
  }
  return ExitCode.ok;
}
