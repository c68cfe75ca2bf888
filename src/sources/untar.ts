/**
 * Tarball sources: compression is found from the first bytes (gzip in-process,
 * xz / bzip2 / zstd through their tools), then the one extractor unpacks with
 * the sources' policy: strip-components, hard links copied, a later entry
 * replaces an earlier one as with tar, and whatever is unsafe is refused.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { type ExtractPolicy, extractArchive } from '../archive/extract.js';
import { EnvironmentError } from '../util/errors.js';
import { runToolStream } from '../util/tool.js';
import { SourceError } from './errors.js';

type Codec = 'gzip' | 'xz' | 'bzip2' | 'zstd' | 'none';

async function sniff(path: string): Promise<Codec> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(6);
    await fh.read(buf, 0, 6, 0);
    if (buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
    if (buf.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
    if (buf.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
    if (buf.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return 'none';
  } finally {
    await fh.close();
  }
}

/**
 * The archive's bytes, decompressed, handed to `consume`: gzip in-process, the others through
 * their tools (the one runner maps "not installed" and "failed: what it said").
 */
function withDecompressed<T>(
  path: string,
  codec: Codec,
  signal: AbortSignal | undefined,
  consume: (stream: Readable) => Promise<T>,
): Promise<T> {
  if (codec === 'none') return consume(createReadStream(path));
  if (codec === 'gzip') return consume(createReadStream(path).pipe(createGunzip()));
  return runToolStream(
    codec,
    ['-dc', path],
    {
      install: `install it: apt-get install -y ${codec === 'xz' ? 'xz-utils' : codec}`,
      signal,
      failed: (message, cause) => new SourceError(`${message} (unpacking ${path})`, undefined, { cause }),
    },
    consume,
  );
}

export interface UntarOptions {
  stripComponents: number;
  /** How the archive is named in messages. */
  label?: string;
  signal?: AbortSignal;
}

/** Unpack `archive` into the folder `dest` (created if missing). */
export async function extractTarball(archive: string, dest: string, opts: UntarOptions): Promise<void> {
  const label = opts.label ?? archive;
  const codec = await sniff(archive);
  const policy: ExtractPolicy = {
    stripComponents: opts.stripComponents,
    hardLinks: 'copy',
    duplicates: 'replace',
    modes: 'exec',
    folder: 'the source folder',
    refuse: (name, why) =>
      new SourceError(
        `${label}: entry ${JSON.stringify(name)} is refused: ${why}`,
        'the archive is unsafe; refusing to unpack it',
      ),
    signal: opts.signal,
  };
  try {
    await withDecompressed(archive, codec, opts.signal, (stream) => extractArchive(stream, dest, policy));
  } catch (err) {
    if (err instanceof SourceError || err instanceof EnvironmentError) throw err;
    if (opts.signal?.aborted) throw err;
    throw new SourceError(
      `cannot unpack ${label}: ${(err as Error).message}`,
      'the file is not a valid tar archive (or its compression is not supported)',
      { cause: err },
    );
  }
}
