/**
 * Safe tarball extraction (tar-stream, so every entry is checked before it
 * touches the disk): no absolute names, no "..", no links out of the folder,
 * no writes through a link, no device files. Compression is found from the
 * first bytes: gzip in-process, xz / bzip2 / zstd through their tools.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, rm, symlink } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { EnvironmentError } from '../util/errors.js';
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

function decompressed(path: string, codec: Codec): { stream: Readable; done: Promise<void> } {
  if (codec === 'none') return { stream: createReadStream(path), done: Promise.resolve() };
  if (codec === 'gzip')
    return { stream: createReadStream(path).pipe(createGunzip()), done: Promise.resolve() };
  const child = spawn(codec, ['-dc', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<void>((res, rej) => {
    child.on('error', (err) =>
      rej(
        new EnvironmentError(
          `cannot run ${codec} to unpack ${path}: ${err.message}`,
          `install it (apt-get install -y ${codec === 'xz' ? 'xz-utils' : codec})`,
        ),
      ),
    );
    child.on('close', (code) =>
      code === 0 ? res() : rej(new SourceError(`${codec} failed on ${path}: ${stderr.trim()}`)),
    );
  });
  return { stream: child.stdout, done };
}

/** Split a tar name into checked components; undefined when it is "." only. */
function components(name: string, what: string, label: string): string[] {
  if (name.startsWith('/'))
    throw new SourceError(
      `${label}: entry ${JSON.stringify(name)} has an absolute ${what}`,
      'the archive is unsafe; refusing to unpack it',
    );
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw new SourceError(
      `${label}: entry ${JSON.stringify(name)} has ".." in its ${what}`,
      'the archive is unsafe; refusing to unpack it',
    );
  return parts;
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
  await mkdir(dest, { recursive: true });
  const { stream, done } = decompressed(archive, await sniff(archive));
  const extract = tar.extract();
  const links = new Set<string>();
  const strip = (parts: string[]): string | undefined =>
    parts.length > opts.stripComponents ? parts.slice(opts.stripComponents).join('/') : undefined;
  const throughLink = (rel: string): string | undefined => {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (links.has(prefix)) return prefix;
    }
    return undefined;
  };

  const consume = async (): Promise<void> => {
    for await (const entry of extract) {
      opts.signal?.throwIfAborted();
      const h = entry.header;
      const rel = strip(components(h.name, 'name', label));
      if (rel === undefined) {
        entry.resume();
        continue;
      }
      const via = throughLink(rel);
      if (via)
        throw new SourceError(
          `${label}: entry ${rel} would be written through the symlink ${via}`,
          'the archive is unsafe; refusing to unpack it',
        );
      const out = join(dest, rel);
      if (h.type !== 'directory') {
        await mkdir(dirname(out), { recursive: true });
        await rm(out, { force: true, recursive: true }); // a later entry replaces an earlier one, as with tar
        links.delete(rel);
      }
      switch (h.type) {
        case 'directory':
          await mkdir(out, { recursive: true });
          entry.resume();
          break;
        case 'file':
        case 'contiguous-file':
          await pipeline(entry, createWriteStream(out, { mode: (h.mode ?? 0o644) & 0o111 ? 0o755 : 0o644 }));
          break;
        case 'symlink': {
          const target = h.linkname ?? '';
          const resolved = posix.normalize(posix.join(posix.dirname(rel), target));
          if (target.startsWith('/') || resolved === '..' || resolved.startsWith('../')) {
            throw new SourceError(
              `${label}: symlink ${rel} -> ${target} points outside the folder`,
              'the archive is unsafe; refusing to unpack it',
            );
          }
          await symlink(target, out);
          links.add(rel);
          entry.resume();
          break;
        }
        case 'link': {
          // A hard link: copy the earlier entry, so the copy owns its bytes.
          const target = strip(components(h.linkname ?? '', 'link target', label));
          if (target === undefined || throughLink(target) || links.has(target)) {
            throw new SourceError(
              `${label}: hard link ${rel} -> ${h.linkname ?? ''} does not name a file in the folder`,
              'the archive is unsafe; refusing to unpack it',
            );
          }
          await copyFile(join(dest, target), out);
          entry.resume();
          break;
        }
        default:
          throw new SourceError(
            `${label}: entry ${rel} is a ${h.type ?? 'special file'}; only files, folders and links are allowed`,
            'the archive is unsafe; refusing to unpack it',
          );
      }
    }
  };
  try {
    await Promise.all([pipeline(stream, extract), consume(), done]);
  } catch (err) {
    stream.destroy();
    extract.destroy();
    if (err instanceof SourceError || err instanceof EnvironmentError) throw err;
    if (opts.signal?.aborted) throw err;
    throw new SourceError(
      `cannot unpack ${label}: ${(err as Error).message}`,
      'the file is not a valid tar archive (or its compression is not supported)',
      { cause: err },
    );
  }
}
