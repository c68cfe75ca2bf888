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

export interface TransferOptions {
  engine: Engine;
  source: () => Readable;
  into: string;
  /** The source folder in the container (default SOURCE_DIR; the build-path variation moves it). */
  sourceDir?: string;
  /** Told once which way the files move (for the log). */
  onMode?: (mode: TransferMode) => void;
  /** The transfer failed while the container may still run (it may be waiting for input): stop it. */
  onFailure?: (err: unknown) => void;
}

/** What one transfer holds while the container runs. */
interface TransferState {
  stdin: PassThrough;
  containerId: string;
  source?: Readable;
  upload?: Readable;
  /** Set when reprorom itself cuts the upload off (the container has exited): not a failure. */
  abandoned: boolean;
  failure: unknown;
  copyIn: Promise<void>;
  extracted?: Promise<ExtractedFile[]>;
}

export function startTransfer(opts: TransferOptions): Transfer {
  const state: TransferState = {
    stdin: new PassThrough(),
    containerId: '',
    abandoned: false,
    failure: undefined,
    copyIn: Promise.resolve(),
  };
  const fail = (err: unknown) => {
    if (state.failure !== undefined) return;
    state.failure = err;
    opts.onFailure?.(err);
  };
  const channel = new OutputChannel({
    onMode: (mode) => {
      opts.onMode?.(mode);
      startCopyIn(opts, state, mode);
      state.copyIn.catch((err: unknown) => {
        if (!state.abandoned) fail(err);
      });
    },
    onArchive: (archive) => {
      state.extracted = extractArchive(archive, opts.into, artifactPolicy);
      state.extracted.catch(fail);
    },
  });
  channel.on('error', fail);

  return {
    stdin: state.stdin,
    channel,
    created: (id) => {
      state.containerId = id;
    },
    finish: (exitCode) => finishTransfer(opts, state, channel, exitCode),
    close() {
      state.abandoned = true;
      state.upload?.destroy();
      state.source?.destroy();
      state.stdin.destroy();
      if (!channel.destroyed) channel.destroy();
    },
  };
}

/** The source goes in the way the container asked: on its stdin through its tar, or through the archive API. */
function startCopyIn(opts: TransferOptions, state: TransferState, mode: TransferMode): void {
  const { stdin } = state;
  const source = opts.source();
  state.source = source;
  if (mode === 'tar') {
    const upload = source.pipe(padToRecords(TAR_RECORD));
    state.upload = upload;
    // pipe() does not pass errors on: a source that fails must fail the upload.
    source.once('error', (err) => state.upload?.destroy(err));
    upload.pipe(stdin, { end: false });
    state.copyIn = finished(upload);
  } else {
    state.copyIn = opts.engine.putArchive(state.containerId, BUILD_DIR, source).then(
      () => void stdin.write('go\n'),
      (err: unknown) => {
        // The container waits for a word: give it one that makes it stop.
        stdin.write('stop\n');
        throw err;
      },
    );
  }
}

/** After the container exited: its artifacts, or the transfer's first failure. */
async function finishTransfer(
  opts: TransferOptions,
  state: TransferState,
  channel: OutputChannel,
  exitCode: number,
): Promise<BuiltArtifact[]> {
  // A container that stopped reading (its tar failed) leaves the upload waiting forever.
  if (state.upload && !state.upload.readableEnded) {
    state.abandoned = true;
    state.upload.destroy();
  }
  await finished(channel.end()).catch(() => undefined);
  await state.copyIn.catch(() => undefined);
  const files = channel.mode === 'tar' ? await state.extracted?.catch(() => undefined) : undefined;
  if (state.failure !== undefined) throw state.failure;
  if (exitCode !== 0) return [];
  if (channel.mode === 'tar') return asArtifacts(files ?? []);
  return copyByName(opts.engine, state.containerId, channel.names, opts.into, opts.sourceDir ?? SOURCE_DIR);
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
