/**
 * Download a URL (http(s) with Node's fetch, or file:// for tests and
 * air-gapped mirrors) into a cache file named by its pinned sha256, hashing
 * while writing. A cached file is hashed again on every use.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, realpath, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isWithin } from '../archive/containment.js';
import { tempSibling } from '../util/atomic.js';
import { EnvironmentError } from '../util/errors.js';
import { fileUrlPath } from '../util/fileUrl.js';
import { printable } from '../util/printable.js';
import { formatBytes, IrregularFileError, openRegularFile } from '../util/regularFile.js';
import { sha256File } from '../util/sha256.js';
import { SourceError } from './errors.js';

/**
 * Which local files a `file:` URL may name. `within`: a URL from a board or pin (hostile
 * input from a pull request) may only name a regular file inside that folder (the
 * workspace), so no host file (/etc/shadow) is read, hashed or told apart from a missing
 * one. `apt`: a URL apt's own configuration chose (a local mirror), not the workspace.
 */
export type FileUrlPolicy = { within: string } | 'apt';

/** Default cap on a download whose size is not pinned: a URL that never ends must not fill the cache disk. */
export const MAX_DOWNLOAD_BYTES = 8 * 1024 * 1024 * 1024;

/** The download cap in force: REPROROM_MAX_DOWNLOAD_BYTES when it is a positive whole number, else 8 GiB. */
export function maxDownloadBytes(): number {
  const raw = process.env['REPROROM_MAX_DOWNLOAD_BYTES'];
  const n = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : MAX_DOWNLOAD_BYTES;
}

/** The local file a `file:` URL names, checked against the policy; opened without blocking. */
async function openFileUrl(url: string, parsed: URL, policy: FileUrlPolicy): Promise<Readable> {
  const local = fileUrlPath(parsed);
  if (!local.ok)
    throw new SourceError(`url ${printable(url)} ${local.problem}`, 'use file:///path/inside/the/workspace');
  const outside = () =>
    new SourceError(
      `url ${printable(url)} names a file outside the workspace; a file: URL may only name a file inside the workspace`,
      'copy the file into the workspace and point the file: URL there, or serve it over https:',
    );
  let path = local.path;
  if (policy !== 'apt') {
    const root = resolve(policy.within);
    // Refused before the path is touched: whether an outside file exists is not told either.
    if (!isWithin(root, resolve(path))) throw outside();
    const real = await realpath(path).catch(() => undefined);
    const realRoot = await realpath(root).catch(() => root);
    if (real !== undefined && !isWithin(realRoot, real)) throw outside();
    path = real ?? path;
  }
  try {
    const { handle } = await openRegularFile(path, { followLinks: true });
    return handle.createReadStream();
  } catch (err) {
    if (err instanceof IrregularFileError)
      throw new SourceError(
        `cannot read ${printable(url)}: it ${err.what}, expected a regular file`,
        'check the url',
      );
    throw new SourceError(`cannot read ${printable(url)}: ${(err as Error).message}`, 'check the url', {
      cause: err,
    });
  }
}

async function openUrl(url: string, policy: FileUrlPolicy, signal?: AbortSignal): Promise<Readable> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SourceError(
      `source url ${JSON.stringify(url)} is not a URL`,
      'use an http://, https:// or file:// URL',
    );
  }
  if (parsed.protocol === 'file:') return openFileUrl(url, parsed, policy);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new SourceError(
      `source url ${url} uses ${parsed.protocol}, which is not supported`,
      'use http://, https:// or file://',
    );
  }
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new EnvironmentError(
      `cannot download ${url}: ${(err as Error).message}`,
      'check the network or use a file:// mirror',
      { cause: err },
    );
  }
  if (!res.ok || !res.body) {
    throw new EnvironmentError(
      `cannot download ${url}: HTTP ${res.status} ${res.statusText}`,
      'check source.url; the server may no longer serve this file',
    );
  }
  return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
}

export interface CachedDownload {
  path: string;
  /** true when the file came from the cache (and was verified). */
  hit: boolean;
}

/**
 * Make `dest` hold the bytes of `url` whose sha256 is `sha256`. A cached file
 * with the wrong hash (truncated, corrupted) is deleted and downloaded again;
 * a download with the wrong hash is deleted and reported with both hashes.
 */
export async function downloadVerified(
  url: string,
  sha256: string,
  dest: string,
  opts: { signal?: AbortSignal; files: FileUrlPolicy; maxBytes?: number },
): Promise<CachedDownload> {
  const { signal } = opts;
  const max = opts.maxBytes ?? maxDownloadBytes();
  try {
    if ((await sha256File(dest)) === sha256) return { path: dest, hit: true };
    await rm(dest, { force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dirname(dest), { recursive: true });
  const tmp = tempSibling(dest);
  const hash = createHash('sha256');
  let size = 0;
  try {
    const body = await openUrl(url, opts.files, signal);
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        // Stopped as soon as the cap is passed: an endless answer must not fill the disk.
        if (size > max) {
          cb(
            new SourceError(
              `${printable(url)} sent more than ${formatBytes(max)}, the most a download may have; stopped`,
              'check the url; a larger pinned file needs REPROROM_MAX_DOWNLOAD_BYTES raised',
            ),
          );
          return;
        }
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    await pipeline(body, tap, createWriteStream(tmp), { signal });
    const actual = hash.digest('hex');
    if (actual !== sha256) {
      throw new SourceError(
        `sha256 mismatch for ${url}: expected ${sha256}, got ${actual}`,
        'the file changed upstream or the pin is wrong; check the file, then update source.sha256',
      );
    }
    await rename(tmp, dest);
    return { path: dest, hit: false };
  } finally {
    await rm(tmp, { force: true });
  }
}
