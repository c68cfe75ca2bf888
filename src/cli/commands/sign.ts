/** `reprorom sign DIR --key KEY`: detached signatures of the release's manifest, hashes and provenance. */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readText } from '../../hashes/hashesTxt.js';
import { parseReleaseManifest, RELEASE_MANIFEST, signedFiles } from '../../release/releaseManifest.js';
import { parseFormat, signFiles } from '../../release/sign.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { printLine, printOutput } from '../output.js';

/** The files to sign: a release folder's signed set, or one file (e.g. a Heads hashes.txt). */
async function filesToSign(target: string): Promise<string[]> {
  if (!existsSync(target))
    throw new UsageError(`${target} does not exist`, 'pass a release folder written by `reprorom release`');
  if (statSync(target).isFile()) return [target];
  const manifestPath = join(target, RELEASE_MANIFEST);
  const manifest = parseReleaseManifest(await readText(manifestPath), manifestPath);
  const files = signedFiles(manifest).map((f) => join(target, f));
  const absent = files.filter((f) => !existsSync(f));
  if (absent.length > 0)
    throw new UsageError(
      `the release is incomplete: ${absent.join(', ')} missing`,
      'write the release again with `reprorom release`',
    );
  return files;
}

export async function runSign(
  dir: string,
  opts: { key: string; format?: string; json?: boolean },
): Promise<number> {
  const target = resolve(dir);
  const format = parseFormat(opts.format, opts.key);
  const files = await filesToSign(target);
  const signatures = await signFiles(files, format === 'ssh' ? resolve(opts.key) : opts.key, format);
  if (opts.json) printOutput('sign', { schema: 'reprorom.sign/v1', ok: true, format, files, signatures });
  else {
    for (const s of signatures) printLine(`signed ${s}`);
    printLine(
      `check it:  reprorom verify ${dir} --key ${format === 'ssh' ? 'SIGNER.pub' : 'SIGNER-public-key.asc'}`,
    );
  }
  return ExitCode.ok;
}
