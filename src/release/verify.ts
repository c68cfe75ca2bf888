/**
 * `verify`: is this release what its provenance says, and does building that
 * again here give the same bytes? Order: signatures (nothing unsigned is read
 * as truth) → integrity of the folder → completeness of the provenance → the
 * workspace holds the same pin, image and board definition → rebuild → compare.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../util/errors.js';
import { fileUrlPath } from '../util/fileUrl.js';
import { printable } from '../util/printable.js';
import { fileKind } from '../util/regularFile.js';
import { RELEASE_HASHES, RELEASE_MANIFEST } from './releaseManifest.js';
import { verifyReleaseFolder } from './verifyFolder.js';
import { verifyHeads } from './verifyHeads.js';
import type { VerifyOptions, VerifyResult } from './verifyTypes.js';

export type { ArtifactVerdict, BoardVerification, VerifyOptions, VerifyResult } from './verifyTypes.js';

/** A folder, its manifest.json, a Heads hashes.txt, or a file:// URL of one of these. */
export async function resolveReleaseInput(
  input: string,
): Promise<{ kind: 'release'; dir: string } | { kind: 'heads'; file: string }> {
  let path = input;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    if (!input.startsWith('file://')) {
      throw new UsageError(
        `"${input}" is not a local release`,
        'download the release folder first, then pass its path or a file:// URL',
      );
    }
    const local = fileUrlPath(input);
    if (!local.ok)
      throw new UsageError(
        `release ${printable(input)} ${local.problem}`,
        'download the release folder first, then pass its path or a file:///path URL',
      );
    path = local.path;
  }
  path = resolve(path);
  const s = await stat(path).catch(() => undefined);
  if (!s)
    throw new UsageError(
      `release "${input}" does not exist`,
      'pass a release folder (written by `reprorom release`), its manifest.json, or a Heads hashes.txt with --rom and --board',
    );
  // A FIFO or device would block or never end: only a folder or a regular file is read.
  if (!s.isDirectory() && !s.isFile())
    throw new UsageError(
      `release "${input}" is ${fileKind(s)}, expected a release folder, its manifest.json or a hashes.txt`,
      'pass a release folder (written by `reprorom release`), its manifest.json, or a Heads hashes.txt with --rom and --board',
    );
  if (s.isDirectory()) return { kind: 'release', dir: path };
  if (basename(path) === RELEASE_MANIFEST) return { kind: 'release', dir: dirname(path) };
  return { kind: 'heads', file: path };
}

/** A release folder, or a Heads-style hashes.txt (also `--rom` without `--no-rebuild` on a folder: its hashes list). */
export async function verifyRelease(input: string, opts: VerifyOptions): Promise<VerifyResult> {
  const target = await resolveReleaseInput(input);
  if (target.kind === 'heads' || (opts.rom !== undefined && !opts.noRebuild))
    return verifyHeads(target.kind === 'heads' ? target.file : join(target.dir, RELEASE_HASHES), opts);
  return verifyReleaseFolder(target.dir, opts);
}
