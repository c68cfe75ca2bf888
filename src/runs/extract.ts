/**
 * Extracts a tar stream (from the engine's archive API) into an output folder,
 * refusing anything that could land outside it: `..`, absolute paths, links whose
 * target escapes, devices. Nothing is written for a refused archive entry.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, normalize, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { BuildFailedError } from '../util/errors.js';

export class UnsafeArchiveError extends BuildFailedError {}

/** Where `name` lands under `root`, or undefined when it would escape. */
export function safeJoin(root: string, name: string): string | undefined {
  if (name.includes('\0') || isAbsolute(name) || name.split(/[\\/]/).includes('..')) return undefined;
  const target = resolve(root, normalize(name));
  const rel = relative(root, target);
  if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return undefined;
  return target;
}

/** True when a symlink at `linkPath` pointing to `target` stays inside `root`. */
export function linkStaysInside(root: string, linkPath: string, target: string): boolean {
  if (isAbsolute(target)) return false;
  const resolved = resolve(dirname(linkPath), target);
  const rel = relative(root, resolved);
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

export interface ExtractedFile {
  path: string;
  size: number;
  /** Hashed while it was written: an artifact is never read back to hash it. */
  sha256: string;
}

/** Extract every regular file and safe symlink; returns what was written, relative to `root`. */
export async function extractSafely(stream: Readable, root: string): Promise<ExtractedFile[]> {
  const absRoot = resolve(root);
  await mkdir(absRoot, { recursive: true });
  const written: ExtractedFile[] = [];
  // Entries below an extracted symlink would be written through it: refuse them.
  const links = new Set<string>();
  const ex = tarStream.extract();
  ex.on('entry', (header, body, next) => {
    // The entry stream fails too when the archive is refused; the pipeline reports it once.
    body.on('error', () => {});
    const fail = (why: string) => {
      body.resume();
      ex.destroy(
        new UnsafeArchiveError(
          `refused artifact archive entry "${header.name}": ${why}`,
          'the board produced an artifact that would land outside the output folder; fix its artifact paths',
        ),
      );
    };
    const target = safeJoin(absRoot, header.name);
    if (!target) return fail('its path is absolute or contains ".."');
    const parts = relative(absRoot, target).split(sep);
    for (let i = 1; i < parts.length; i++) {
      if (links.has(parts.slice(0, i).join(sep))) return fail('it lies below a symlink');
    }
    const run = async () => {
      switch (header.type) {
        case 'directory':
          await mkdir(target, { recursive: true });
          body.resume();
          return;
        case 'file':
        case 'contiguous-file': {
          await mkdir(dirname(target), { recursive: true });
          const hash = createHash('sha256');
          await pipeline(
            body,
            async function* (chunks: AsyncIterable<unknown>) {
              for await (const chunk of chunks) {
                hash.update(chunk as Buffer);
                yield chunk;
              }
            },
            createWriteStream(target, { flags: 'wx', mode: 0o644 }),
          );
          written.push({
            path: relative(absRoot, target).split(sep).join('/'),
            size: header.size ?? 0,
            sha256: hash.digest('hex'),
          });
          return;
        }
        case 'symlink': {
          const linkname = header.linkname ?? '';
          if (!linkStaysInside(absRoot, target, linkname))
            throw new UnsafeArchiveError(
              `refused artifact archive entry "${header.name}": symlink to "${linkname}" points outside the output folder`,
              'an artifact must be a file inside the build tree',
            );
          await mkdir(dirname(target), { recursive: true });
          await symlink(linkname, target);
          links.add(relative(absRoot, target));
          body.resume();
          return;
        }
        case 'link': {
          // Hard links inside the archive are refused too: their target is another entry's path.
          throw new UnsafeArchiveError(
            `refused artifact archive entry "${header.name}": hard links are not accepted`,
            'an artifact must be a regular file',
          );
        }
        default:
          throw new UnsafeArchiveError(
            `refused artifact archive entry "${header.name}": ${header.type} entries are not accepted`,
            'an artifact must be a regular file',
          );
      }
    };
    run().then(
      () => next(),
      (err: unknown) => {
        body.resume();
        ex.destroy(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
  await pipeline(stream, ex);
  return written;
}
