import { cp } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildImage, type ImageBuildResult } from '../../imagebuild/buildImage.js';
import { ExitCode } from '../../util/errors.js';
import { withInterrupts } from '../../util/interrupt.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import { printJson, printLine } from '../output.js';
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
  const ws = await loadValidWorkspace(opts.workspace);
  const spinner = await progress(`image ${name}`);
  let result: ImageBuildResult;
  try {
    result = await withInterrupts(async (signal) => {
      const built = await buildImage(ws, name, {
        rebuild: opts.rebuild,
        signal,
        onStep: (s) => spinner.update(s),
      });
      if (opts.load) {
        spinner.update('loading into the Docker engine');
        // The engine client loads only when it is used: a cached --no-load answer stays fast.
        const [{ connectEngine }, { ensureLoaded }] = await Promise.all([
          import('../../engine/docker.js'),
          import('../../imagebuild/load.js'),
        ]);
        await ensureLoaded(connectEngine(), built, signal);
      }
      return built;
    });
    spinner.done(`image ${name}: ${result.id}${result.cached ? ' (cached)' : ''}`);
  } catch (err) {
    spinner.fail(`image ${name} failed`);
    throw err;
  }
  if (opts.out) {
    const { exportDockerArchive } = await import('../../image/dockerArchive.js');
    await exportDockerArchive(result.ociDir, resolve(opts.out));
  }
  if (opts.oci) await cp(result.ociDir, resolve(opts.oci), { recursive: true });
  if (opts.json) {
    printJson({
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
