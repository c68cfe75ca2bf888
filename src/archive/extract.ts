/**
 * The one tar extractor. tar-stream reads the entries and TreeWriter writes them; a policy
 * decides, before an entry touches the disk, whether it may: its name goes through the one
 * containment check, symlinks must resolve inside, nothing is written below an extracted
 * symlink, devices are refused. Every file is hashed while it is written (an artifact is
 * never read back to hash it), and a file whose bytes stop coming is removed, not left half-written.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream, { type Header as Headers } from 'tar-stream';
import { BuildFailedError } from '../util/errors.js';
import { checkRelativeName, describeNameProblem, linkAbove, linkStaysInside } from './containment.js';
import { type FileSink, TreeWriter } from './treeWriter.js';
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
  const decide = decider(policy, files);
  const writer = new TreeWriter(absRoot);
  const extract = tarStream.extract();
  extract.on('entry', (h, entry, next) => {
    // streamx's Readable, used through the calls it shares with Node's.
    const body = entry as unknown as Readable;
    // A refusal destroys the extractor and with it the current entry: the pipeline reports it, once.
    body.on('error', () => {});
    const decision = decide(h);
    if (decision.kind === 'refuse') return void extract.destroy(decision.error);
    if (decision.kind === 'skip') return skip(body, next);
    try {
      if (h.type === 'file')
        return writeFile(writer.file(decision.rel, h.mode ?? 0o644), body, next, (d) =>
          files.set(decision.rel, { path: decision.rel, ...d }),
        );
      if (h.type === 'directory') writer.folder(decision.rel);
      else if (h.type === 'symlink') writer.symlink(decision.rel, h.linkname ?? '');
      else writer.copy(decision.rel, h.linkname ?? '', h.mode ?? 0o644);
    } catch (err) {
      return void extract.destroy(err as Error);
    }
    skip(body, next);
  });
  await pipeline(stream, extract);
  return [...files.values()];
}

/** Drains an entry that writes no bytes, then moves on. */
function skip(body: Readable, next: () => void): void {
  body.on('end', () => next());
  body.resume();
}

/**
 * Streams one entry's bytes into `sink`, hashing them on the way; on its end the file is closed
 * and `done` gets its hash and size. An entry that ends early (a cut archive, an abort) or a
 * write that fails leaves no file behind.
 */
function writeFile(
  sink: FileSink,
  body: Readable,
  next: (err?: Error) => void,
  done: (d: { size: number; sha256: string }) => void,
): void {
  const hash = createHash('sha256');
  let size = 0;
  let ended = false;
  body.on('data', (chunk: Buffer) => {
    try {
      hash.update(chunk);
      size += chunk.length;
      sink.write(chunk);
    } catch (err) {
      body.destroy(err as Error);
    }
  });
  body.on('end', () => {
    ended = true;
    try {
      sink.close();
    } catch (err) {
      sink.abandon();
      return next(err as Error);
    }
    done({ size, sha256: hash.digest('hex') });
    next();
  });
  body.on('close', () => {
    if (!ended) sink.abandon();
  });
  body.on('error', (err) => next(err));
}

/**
 * The policy as a function of each entry's header (which it adjusts: name, type, mode, link).
 * `files` is kept current: a name written again drops its old record, a hard-link copy gets
 * the record of the file it copies.
 */
function decider(policy: ExtractPolicy, files: Map<string, ExtractedFile>): (h: Headers) => Decision {
  /** Symlinks written so far (relative name → target). */
  const links = new Map<string, string>();
  const seen = new Set<string>();
  /** Names whose latest entry is a regular file (known at its header, before its bytes are hashed). */
  const plainFiles = new Set<string>();
  const strip = policy.stripComponents ?? 0;

  return (h) => {
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
    return byType(h, rel, policy, { links, files, strip, refuse });
  };
}

/** The per-type half of the policy (see decider). */
function byType(
  h: Headers,
  rel: string,
  policy: ExtractPolicy,
  s: {
    links: Map<string, string>;
    files: Map<string, ExtractedFile>;
    strip: number;
    refuse: (why: string) => Decision;
  },
): Decision {
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
        return s.refuse(`it is a symbolic link (to "${target}"), expected a regular file`);
      if (!linkStaysInside(rel, target, s.links))
        return s.refuse(`its symlink target "${target}" points outside ${policy.folder}`);
      s.links.set(rel, target);
      return { kind: 'write', rel };
    }
    case 'link': {
      if (policy.hardLinks === 'refuse') return s.refuse('hard links are not accepted');
      const linked = checkRelativeName(h.linkname ?? '');
      const target =
        linked.ok && linked.parts.length > s.strip ? linked.parts.slice(s.strip).join('/') : undefined;
      if (target === undefined || linkAbove(target, s.links) || s.links.has(target) || !s.files.has(target))
        return s.refuse(`its hard link target "${h.linkname ?? ''}" is not a file in ${policy.folder}`);
      h.linkname = target;
      h.mode = fileMode(policy, h);
      // Not streamed: the copy has the bytes, hence the hash, of the file it copies.
      s.files.set(rel, { ...(s.files.get(target) as ExtractedFile), path: rel });
      return { kind: 'write', rel };
    }
    default:
      return s.refuse(`${h.type ?? 'special'} entries are not accepted; only files, folders and links are`);
  }
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
