/**
 * Download a URL (http(s) with Node's fetch, or file:// for tests and
 * air-gapped mirrors) into a cache file named by its pinned sha256, hashing
 * while writing. A cached file is hashed again on every use.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { sha256File } from '../hashes/sha256.js';
import { tempSibling } from '../util/atomic.js';
import { EnvironmentError } from '../util/errors.js';
import { SourceError } from './errors.js';

async function openUrl(url: string, signal?: AbortSignal): Promise<Readable> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SourceError(
      `source url ${JSON.stringify(url)} is not a URL`,
      'use an http://, https:// or file:// URL',
    );
  }
  if (parsed.protocol === 'file:') {
    const path = fileURLToPath(parsed);
    try {
      await stat(path);
    } catch (err) {
      throw new SourceError(`cannot read ${url}: ${(err as Error).message}`, 'check source.url', {
        cause: err,
      });
    }
    return createReadStream(path, { signal });
  }
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
  signal?: AbortSignal,
): Promise<CachedDownload> {
  try {
    if ((await sha256File(dest)) === sha256) return { path: dest, hit: true };
    await rm(dest, { force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dirname(dest), { recursive: true });
  const tmp = tempSibling(dest);
  const hash = createHash('sha256');
  try {
    const body = await openUrl(url, signal);
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
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
