/**
 * The one tar extractor. tar-fs writes the entries; a policy decides, before an
 * entry touches the disk, whether it may: its name goes through the one
 * containment check, symlinks must resolve inside, nothing is written below an
 * extracted symlink, devices are refused. Every file is hashed while it is
 * written (an artifact is never read back to hash it). tar-fs's file-system calls are made
 * synchronously (syncFs.ts): the same calls, without a thread hop each.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarFs from 'tar-fs';
import tarStream, { type Extract, type Header as Headers } from 'tar-stream';
import { BuildFailedError } from '../util/errors.js';
import { hashingStream } from '../util/sha256.js';
import { checkRelativeName, describeNameProblem, linkAbove, linkStaysInside } from './containment.js';
import { syncExtractFs } from './syncFs.js';

/** An archive entry was refused: nothing of it was written. Exit code 4, as a failed build. */
export class UnsafeArchiveError extends BuildFailedError {}

export interface ExtractPolicy {
  /** Leading name segments dropped (a tarball's `proj-1.0/`); entries with nothing left are skipped. */
  stripComponents?: number;
  /** `copy`: a hard link becomes a copy of the earlier file, which then owns its bytes. */
  hardLinks: 'refuse' | 'copy';
  /**
   * `refuse`: two entries with one name are refused; `replace`: the later one wins, as with tar;
   * `files`: a regular file may follow a regular file of its name (two globs matched one file).
   */
  duplicates: 'refuse' | 'replace' | 'files';
  /** `inside` (the default): symlinks that resolve inside the folder are written; `refuse`: none are. */
  symlinks?: 'inside' | 'refuse';
  /** `plain`: every file 0644; `exec`: 0755 when the entry has an execute bit. */
  modes: 'plain' | 'exec';
  /** How messages name the extraction folder ("the output folder"). */
  folder: string;
  /** The caller's error for a refused entry (`name` as written in the archive). */
  refuse(name: string, why: string): Error;
  signal?: AbortSignal;
}

export interface ExtractedFile {
  /** Relative to the extraction folder, "/"-separated. */
  path: string;
  size: number;
  /** Hashed while it was written. */
  sha256: string;
}

/** The options of tar-fs 3 used here (its published typings describe version 2). */
interface TarFsExtractOptions {
  extract: Extract;
  map(header: Headers): Headers;
  ignore(name: string, header: Headers): boolean;
  mapStream(entry: Readable, header: Headers): Readable;
  fs: ReturnType<typeof syncExtractFs>;
  chown: false;
  utimes: false;
  /** Checked here, by the policy: tar-fs's own check also refuses links to links. */
  validateSymlinks: false;
}
const extractInto = tarFs.extract as unknown as (cwd: string, opts: TarFsExtractOptions) => Extract;

type Decision = { kind: 'write'; rel: string } | { kind: 'skip' } | { kind: 'refuse'; error: Error };

/** Extract `stream` (an uncompressed tar) into `root`; returns the files written (in no set order). */
export async function extractArchive(
  stream: Readable,
  root: string,
  policy: ExtractPolicy,
): Promise<ExtractedFile[]> {
  const absRoot = resolve(root);
  await mkdir(absRoot, { recursive: true });
  const files = new Map<string, ExtractedFile>();
  /** Symlinks written so far (relative name → target). */
  const links = new Map<string, string>();
  const seen = new Set<string>();
  /** Names whose latest entry is a regular file (known at its header, before its bytes are hashed). */
  const plainFiles = new Set<string>();
  const decisions = new WeakMap<Headers, Decision>();
  const strip = policy.stripComponents ?? 0;

  const decide = (h: Headers): Decision => {
    const refuse = (why: string): Decision => ({ kind: 'refuse', error: policy.refuse(h.name, why) });
    if (policy.signal?.aborted) return { kind: 'refuse', error: policy.signal.reason as Error };
    const name = checkRelativeName(h.name);
    if (!name.ok) return refuse(describeNameProblem(name.problem));
    if (name.parts.length <= strip) return { kind: 'skip' };
    const rel = name.parts.slice(strip).join('/');
    const via = linkAbove(rel, links);
    if (via) return refuse(`it would be written through the symlink ${via}`);
    if (h.type !== 'directory') {
      const plainFile = h.type === 'file' || h.type === 'contiguous-file';
      const again =
        policy.duplicates === 'files' ? !(plainFile && plainFiles.has(rel)) : policy.duplicates === 'refuse';
      if (seen.has(rel) && again) return refuse('it appears twice in the archive');
      seen.add(rel);
      if (plainFile) plainFiles.add(rel);
      else plainFiles.delete(rel);
      links.delete(rel);
      files.delete(rel);
    }
    switch (h.type) {
      case 'directory':
        h.mode = 0o755;
        return { kind: 'write', rel };
      case 'file':
      case 'contiguous-file':
        h.type = 'file';
        h.mode = fileMode(policy, h);
        return { kind: 'write', rel };
      case 'symlink': {
        const target = h.linkname ?? '';
        if (policy.symlinks === 'refuse')
          return refuse(`it is a symbolic link (to "${target}"), expected a regular file`);
        if (!linkStaysInside(rel, target, links))
          return refuse(`its symlink target "${target}" points outside ${policy.folder}`);
        links.set(rel, target);
        return { kind: 'write', rel };
      }
      case 'link': {
        if (policy.hardLinks === 'refuse') return refuse('hard links are not accepted');
        const linked = checkRelativeName(h.linkname ?? '');
        const target =
          linked.ok && linked.parts.length > strip ? linked.parts.slice(strip).join('/') : undefined;
        if (target === undefined || linkAbove(target, links) || links.has(target) || !files.has(target))
          return refuse(`its hard link target "${h.linkname ?? ''}" is not a file in ${policy.folder}`);
        h.linkname = target;
        h.mode = fileMode(policy, h);
        // Not streamed: the copy has the bytes, hence the hash, of the file it copies.
        files.set(rel, { ...(files.get(target) as ExtractedFile), path: rel });
        return { kind: 'write', rel };
      }
      default:
        return refuse(`${h.type ?? 'special'} entries are not accepted; only files, folders and links are`);
    }
  };

  const hashing = (entry: Readable, rel: string): Readable => {
    const through = hashingStream((sha256, size) => files.set(rel, { path: rel, size, sha256 }));
    entry.on('error', (err: Error) => through.destroy(err));
    return entry.pipe(through);
  };

  const extract = tarStream.extract();
  // A refusal destroys the extractor and with it the current entry: the pipeline reports it, once.
  extract.on('entry', (_h, body) => body.on('error', () => {}));
  extractInto(absRoot, {
    extract,
    map(h) {
      const decision = decide(h);
      decisions.set(h, decision);
      if (decision.kind === 'write') h.name = decision.rel;
      return h;
    },
    ignore(_name, h) {
      const decision = decisions.get(h);
      if (decision?.kind === 'refuse') extract.destroy(decision.error);
      return decision?.kind !== 'write';
    },
    mapStream(entry, h) {
      return hashing(entry, h.name);
    },
    // tar-fs's calls, made synchronously: the thread-pool round trips were most of the time.
    fs: syncExtractFs({ copyHardLinks: policy.hardLinks === 'copy' }),
    chown: false,
    utimes: false,
    validateSymlinks: false,
  });
  await pipeline(stream, extract);
  return [...files.values()];
}

function fileMode(policy: ExtractPolicy, h: Headers): number {
  return policy.modes === 'exec' && (h.mode ?? 0) & 0o111 ? 0o755 : 0o644;
}

/**
 * Artifacts from a build container: regular files only (the container already refuses links;
 * this is the second line), each name once, except that two globs matching one file send it twice.
 */
export const artifactPolicy: ExtractPolicy = {
  hardLinks: 'refuse',
  duplicates: 'files',
  symlinks: 'refuse',
  modes: 'plain',
  folder: 'the output folder',
  refuse: (name, why) =>
    new UnsafeArchiveError(
      `refused artifact archive entry "${name}": ${why}`,
      'the board produced an artifact that would land outside the output folder or is not a file; fix its artifact paths',
    ),
};
