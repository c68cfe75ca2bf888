/**
 * Moves one run's source into its container and its artifacts out, the way the
 * container asks for on its output channel (see OutputChannel): through the image's
 * own tar on stdin/stdout when it has GNU tar, else through the engine's archive API.
 * Either way every artifact lands inside the output folder or is refused.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { safeJoin } from '../archive/containment.js';
import {
  artifactPolicy,
  type ExtractedFile,
  extractArchive,
  UnsafeArchiveError,
} from '../archive/extract.js';
import type { Engine } from '../engine/port.js';
import { comparePaths } from '../hashes/artifactPath.js';
import { OutputChannel, type TransferMode } from './channel.js';
import { BUILD_DIR, SOURCE_DIR, TAR_RECORD } from './script.js';
import type { BuiltArtifact } from './types.js';

export interface Transfer {
  /** For RunSpec.stdin. */
  stdin: PassThrough;
  /** For RunSpec.stdout. */
  channel: OutputChannel;
  /** The container exists (before start): the archive API needs its ID. */
  created(containerId: string): void;
  /** After the container exited: its artifacts, extracted into `into` and hashed. */
  finish(exitCode: number): Promise<BuiltArtifact[]>;
  /** Stop reading the source and drop the streams (a run that ended early). */
  close(): void;
}

export function startTransfer(opts: {
  engine: Engine;
  source: () => Readable;
  into: string;
  /** The source folder in the container (default SOURCE_DIR; the build-path variation moves it). */
  sourceDir?: string;
  /** Told once which way the files move (for the log). */
  onMode?: (mode: TransferMode) => void;
  /** The transfer failed while the container may still run (it may be waiting for input): stop it. */
  onFailure?: (err: unknown) => void;
}): Transfer {
  const { engine, into } = opts;
  const stdin = new PassThrough();
  let containerId = '';
  let source: Readable | undefined;
  let upload: Readable | undefined;
  /** Set when reprorom itself cuts the upload off (the container has exited): not a failure. */
  let abandoned = false;
  let failure: unknown;
  const fail = (err: unknown) => {
    if (failure !== undefined) return;
    failure = err;
    opts.onFailure?.(err);
  };
  let copyIn: Promise<void> = Promise.resolve();
  let extracted: Promise<ExtractedFile[]> | undefined;

  const channel = new OutputChannel({
    onMode: (mode) => {
      opts.onMode?.(mode);
      source = opts.source();
      if (mode === 'tar') {
        upload = source.pipe(padToRecords(TAR_RECORD));
        // pipe() does not pass errors on: a source that fails must fail the upload.
        source.once('error', (err) => upload?.destroy(err));
        upload.pipe(stdin, { end: false });
        copyIn = finished(upload);
      } else {
        copyIn = engine.putArchive(containerId, BUILD_DIR, source).then(
          () => void stdin.write('go\n'),
          (err: unknown) => {
            // The container waits for a word: give it one that makes it stop.
            stdin.write('stop\n');
            throw err;
          },
        );
      }
      copyIn.catch((err: unknown) => {
        if (!abandoned) fail(err);
      });
    },
    onArchive: (archive) => {
      extracted = extractArchive(archive, into, artifactPolicy);
      extracted.catch(fail);
    },
  });
  channel.on('error', fail);

  return {
    stdin,
    channel,
    created: (id) => {
      containerId = id;
    },
    async finish(exitCode) {
      // A container that stopped reading (its tar failed) leaves the upload waiting forever.
      if (upload && !upload.readableEnded) {
        abandoned = true;
        upload.destroy();
      }
      await finished(channel.end()).catch(() => undefined);
      await copyIn.catch(() => undefined);
      const files = channel.mode === 'tar' ? await extracted?.catch(() => undefined) : undefined;
      if (failure !== undefined) throw failure;
      if (exitCode !== 0) return [];
      if (channel.mode === 'tar') return asArtifacts(files ?? []);
      return copyByName(engine, containerId, channel.names, into, opts.sourceDir ?? SOURCE_DIR);
    },
    close() {
      abandoned = true;
      upload?.destroy();
      source?.destroy();
      stdin.destroy();
      if (!channel.destroyed) channel.destroy();
    },
  };
}

/** Zero-pads a tar stream to whole records, so a reader using that record size stops at its end. */
function padToRecords(record: number): Transform {
  let length = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      length += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      const rest = (record - (length % record)) % record;
      done(null, rest > 0 ? Buffer.alloc(rest) : undefined);
    },
  });
}

/** The run's artifacts as manifests list them: under artifacts/, in byte order of their paths. */
function asArtifacts(files: readonly ExtractedFile[]): BuiltArtifact[] {
  return files
    .map((f) => ({ path: `artifacts/${f.path}`, sha256: f.sha256, size: f.size }))
    .sort((a, b) => comparePaths(a.path, b.path));
}

/** Archive API: one copy per artifact the container named. */
async function copyByName(
  engine: Engine,
  containerId: string,
  names: readonly string[],
  into: string,
  sourceDir: string,
): Promise<BuiltArtifact[]> {
  const paths = [...new Set(names.map((n) => n.replace(/^\.\//, '')).filter((p) => p !== ''))].sort();
  const files: ExtractedFile[] = [];
  for (const p of paths) {
    const target = safeJoin(into, p);
    if (!target)
      throw new UnsafeArchiveError(
        `refused artifact "${p}": it would land outside the output folder`,
        'artifact paths must stay inside the source tree',
      );
    const parent = dirname(target);
    await mkdir(parent, { recursive: true });
    const got = await extractArchive(
      await engine.getArchive(containerId, `${sourceDir}/${p}`),
      parent,
      artifactPolicy,
    );
    const folder = dirname(p) === '.' ? '' : `${dirname(p)}/`;
    for (const f of got) files.push({ ...f, path: `${folder}${f.path}` });
  }
  return asArtifacts(files);
}
