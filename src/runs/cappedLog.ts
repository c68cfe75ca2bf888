/**
 * A board's log file (RUN/BOARD.log) with a size cap: a build that prints a gigabyte must
 * not write a gigabyte to the host's disk (limits.disk bounds the container, not the log).
 * The head is written as it comes (the first error is usually near the top), the last
 * lines are kept in memory and written at the end (the failure is at the bottom), and
 * a line in between says how much was dropped. Lines are kept whole, except one longer than
 * half the tail (output without line breaks), whose end is kept.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';

/** Bytes a board's log keeps when the board sets no `limits.log`. */
export const DEFAULT_LOG_BYTES = 32 * 1024 * 1024;

/** What runBoard needs of a log: where it is, and a place to put lines. */
export interface RunLog {
  readonly path: string;
  write(text: string): void;
}

const mib = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${n} bytes`);

export class CappedLog implements RunLog {
  private readonly out: WriteStream;
  private readonly headBytes: number;
  private readonly tailBytes: number;
  private written = 0;
  private headDone = false;
  private tail: string[] = [];
  private tailStart = 0;
  private tailSize = 0;
  private droppedBytes = 0;
  private droppedLines = 0;

  /**
   * `cap`: the bytes the file may hold, half for its head and half for its tail (the note
   * about what was dropped comes on top). `onCapped` is called once, when text is first dropped.
   */
  constructor(
    readonly path: string,
    readonly cap: number,
    private readonly onCapped?: () => void,
  ) {
    this.out = createWriteStream(path);
    this.headBytes = Math.floor(cap / 2);
    this.tailBytes = cap - this.headBytes;
  }

  write(text: string): void {
    const size = Buffer.byteLength(text);
    if (!this.headDone && this.written + size <= this.headBytes) {
      this.written += size;
      this.out.write(text);
      return;
    }
    if (!this.headDone) {
      this.headDone = true;
      this.onCapped?.();
    }
    this.tail.push(text);
    this.tailSize += size;
    // Drop whole lines from the front until the kept tail fits; only a line longer than half
    // the tail (output without line breaks) is cut, keeping its end.
    while (this.tailSize > this.tailBytes && this.tailStart < this.tail.length) {
      const first = this.tail[this.tailStart] ?? '';
      const bytes = Buffer.byteLength(first);
      const over = this.tailSize - this.tailBytes;
      if (bytes <= over || bytes <= this.tailBytes / 2) {
        this.tailSize -= bytes;
        this.droppedBytes += bytes;
        this.droppedLines += countLines(first);
        this.tailStart++;
        continue;
      }
      // Cut to at most half the tail: the next line drops the rest whole, so a long piece is
      // cut once, not once per line that follows it.
      const kept = lastBytes(first, Math.min(bytes - over, Math.floor(this.tailBytes / 2)));
      const cut = bytes - Buffer.byteLength(kept);
      this.tail[this.tailStart] = kept;
      this.tailSize -= cut;
      this.droppedBytes += cut;
      this.droppedLines += countLines(first) - countLines(kept);
    }
    if (this.tailStart > 4096 && this.tailStart * 2 > this.tail.length) {
      this.tail = this.tail.slice(this.tailStart);
      this.tailStart = 0;
    }
  }

  /** Bytes and lines left out of the file so far. */
  dropped(): { bytes: number; lines: number } {
    return { bytes: this.droppedBytes, lines: this.droppedLines };
  }

  /** Write the note and the kept tail, and close the file. */
  async end(): Promise<void> {
    if (this.droppedBytes > 0)
      this.out.write(
        `[reprorom] log capped at ${mib(this.cap)} (limits.log): ${this.droppedBytes} bytes (${this.droppedLines} lines) of build output dropped here; the first ${mib(this.headBytes)} and the last ${mib(this.tailBytes)} are kept\n`,
      );
    for (let i = this.tailStart; i < this.tail.length; i++) this.out.write(this.tail[i] ?? '');
    this.tail = [];
    this.out.end();
    await finished(this.out).catch(() => {});
  }
}

/** The last `n` bytes of `text` or fewer (never a cut character). */
function lastBytes(text: string, n: number): string {
  const buf = Buffer.from(text);
  let start = buf.length - n;
  // Step past UTF-8 continuation bytes so the kept text starts on a whole character.
  while (start < buf.length && ((buf[start] ?? 0) & 0xc0) === 0x80) start++;
  return buf.subarray(start).toString();
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
