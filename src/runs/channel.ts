/**
 * The build container's stdout is a channel to the host, not a log (see buildScript).
 * Its first line says how files move:
 * - `reprorom:tar`: the image has GNU tar, so the source goes in on stdin and, after the
 *   commands, the artifacts come back here as one tar stream. No archive-API copy at all.
 * - `reprorom:list`: no usable tar; the host copies the source in through the engine's
 *   archive API, says `go` on stdin, and later reads the artifact names here, one per line.
 */
import { PassThrough, Writable } from 'node:stream';
import { lineWriter } from '../engine/lines.js';

export type TransferMode = 'tar' | 'list';

const HEADERS: Record<string, TransferMode> = { 'reprorom:tar': 'tar', 'reprorom:list': 'list' };
/** A header is a dozen bytes; anything longer before a newline is not one. */
const MAX_HEADER = 64;

export class ChannelError extends Error {}

export interface ChannelHandlers {
  /** The container said how it takes its source; called once, before any payload. */
  onMode: (mode: TransferMode) => void;
  /** tar mode: the artifact archive, handed over at its first byte (never for an empty one). */
  onArchive: (archive: PassThrough) => void;
}

export class OutputChannel extends Writable {
  mode: TransferMode | undefined;
  /** list mode: the artifact names, in the order printed. */
  readonly names: string[] = [];
  private header = Buffer.alloc(0);
  private archive: PassThrough | undefined;
  private readonly lines = lineWriter((line) => this.names.push(line));

  constructor(private readonly handlers: ChannelHandlers) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    try {
      this.accept(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _final(done: (err?: Error | null) => void): void {
    this.archive?.end();
    this.lines.end(() => done());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // An archive cut short must fail too, or its reader would wait forever.
    if (err || !this.writableFinished) this.archive?.destroy(err ?? undefined);
    done(err);
  }

  private accept(chunk: Buffer): void {
    if (this.mode === undefined) {
      this.header = Buffer.concat([this.header, chunk]);
      const nl = this.header.indexOf(0x0a);
      if (nl === -1) {
        if (this.header.length > MAX_HEADER) throw this.unexpected();
        return;
      }
      const mode = HEADERS[this.header.subarray(0, nl).toString('latin1')];
      if (!mode) throw this.unexpected();
      this.mode = mode;
      this.handlers.onMode(mode);
      chunk = this.header.subarray(nl + 1);
      this.header = Buffer.alloc(0);
      if (chunk.length === 0) return;
    }
    if (this.mode === 'list') {
      this.lines.write(chunk);
      return;
    }
    if (!this.archive) {
      this.archive = new PassThrough();
      this.handlers.onArchive(this.archive);
    }
    this.archive.write(chunk);
  }

  private unexpected(): ChannelError {
    const first = this.header.subarray(0, MAX_HEADER).toString('latin1').split('\n')[0];
    const seen = JSON.stringify(first);
    return new ChannelError(`the build container wrote ${seen} where reprorom expected its own header`);
  }
}
