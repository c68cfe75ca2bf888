/**
 * A hashes.txt held compactly, for the usual large list: every line a plain
 * `<64 lowercase hex>  <path>` (or ` *<path>`) in printable ASCII, the paths already normalized,
 * each file name (the comparison key) once. The file is read in chunks into one reused buffer;
 * each row keeps its hash as 32 bytes and its path's bytes, and no string or object is made per
 * line (rows become objects only when something asks for them). A list in any order is packed:
 * names that rise need no index, others get an open-addressing index of their names, which is
 * also how a repeated name is found. Anything else (a bad line, UTF-8 names, `./` prefixes, CR
 * line ends, a name listed twice) is not packed: the caller parses the text as before, which also
 * says what is wrong with it.
 */
import { openRegularFile } from '../util/regularFile.js';
import { MAX_INPUT_BYTES, maxInputLines } from './limits.js';
import { buildIndex } from './packedIndex.js';
import { compareRanges, type PackedHashes } from './packedRows.js';

export { findKey, keyHash, keyIndex } from './packedIndex.js';
export * from './packedRows.js';

const SLASH = 47;
const DOT = 46;
const LF = 10;

/** Byte classes, one table load per byte: 1 lowercase hex, 2 other printable ASCII, 3 slash, 0 anything else. */
const CLASS = new Uint8Array(256);
for (let c = 0x20; c <= 0x7e; c++) CLASS[c] = 2;
for (const c of '0123456789abcdef') CLASS[c.charCodeAt(0)] = 1;
CLASS[SLASH] = 3;
// Backslashes are escapes in sha256sum's format: left to the text parser.
CLASS[92] = 0;

/** Nibble values of lowercase hex digits; 255 for every other byte. */
const NIBBLE = new Uint8Array(256).fill(255);
for (let i = 0; i < 16; i++) NIBBLE['0123456789abcdef'.charCodeAt(i)] = i;

/** True when `bytes[start, end)` is "" or "." or "..": a segment no normalized path has. */
function badSegment(bytes: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  if (n === 0) return true;
  if (n === 1) return bytes[start] === DOT;
  return n === 2 && bytes[start] === DOT && bytes[start + 1] === DOT;
}
/**
 * Takes lines from chunks of one file into flat arrays sized for the whole file (pages that are
 * never written are never touched, so the room costs no memory).
 */
class Packer {
  count = 0;
  sorted = true;
  private used = 0;
  private readonly cap = maxInputLines();
  readonly shas: Buffer;
  readonly paths: Buffer;
  readonly pathStart: Int32Array;
  readonly keyStart: Int32Array;

  constructor(size: number) {
    // Every line takes at least 67 bytes: room for all.
    const rows = Math.floor(size / 67) + 1;
    this.shas = Buffer.allocUnsafe(rows * 32);
    this.paths = Buffer.allocUnsafe(size);
    this.pathStart = new Int32Array(rows + 1);
    this.keyStart = new Int32Array(rows);
  }

  /**
   * Packs the complete lines of `bytes[from, end)` (and, when `final`, a last line without its
   * line break). Returns where the unfinished line starts (`end` when there is none), or -1
   * when the list is not one to pack.
   */
  lines(bytes: Buffer, from: number, end: number, final: boolean): number {
    const { shas, paths, pathStart, keyStart } = this;
    let pos = from;
    while (pos < end) {
      if (end - pos < 68) {
        if (!final) return pos;
        if (end - pos < 67) return -1;
      }
      if (this.count >= this.cap || bytes[pos + 64] !== 32) return -1;
      const mode = bytes[pos + 65];
      if (mode !== 32 && mode !== 42) return -1;
      const sha = this.count * 32;
      for (let i = 0; i < 32; i++) {
        const hi = NIBBLE[bytes[pos + 2 * i] as number] as number;
        const lo = NIBBLE[bytes[pos + 2 * i + 1] as number] as number;
        if ((hi | lo) > 15) return -1;
        shas[sha + i] = (hi << 4) | lo;
      }
      const start = pos + 66;
      // A leading "./" is stripped by the text parser: left to it.
      if (bytes[start] === DOT && start + 1 < end && bytes[start + 1] === SLASH) return -1;
      let segment = start;
      let p = this.used;
      let key = p;
      let e = start;
      for (; e < end; e++) {
        const b = bytes[e] as number;
        const k = CLASS[b];
        if (k === 1 || k === 2) {
          paths[p++] = b;
          continue;
        }
        if (k === 3) {
          if (badSegment(bytes, segment, e)) return -1;
          segment = e + 1;
          paths[p++] = b;
          key = p;
          continue;
        }
        if (b === LF) break;
        // Control characters (NUL, CR, tab), non-ASCII and backslashes: left to the text parser.
        return -1;
      }
      // The line goes on in the next chunk: taken again from its start then.
      if (e === end && !final) return pos;
      if (badSegment(bytes, segment, e)) return -1;
      const row = this.count;
      if (row > 0 && compareRanges(paths, keyStart[row - 1] as number, this.used, paths, key, p) >= 0)
        this.sorted = false;
      keyStart[row] = key;
      this.used = p;
      this.count = row + 1;
      pathStart[row + 1] = p;
      pos = e + 1;
    }
    return end;
  }

  /** The packed list, or undefined when a name is listed twice (the text parser keys those by path). */
  done(): PackedHashes | undefined {
    const count = this.count;
    if (count === 0) return undefined;
    const base = {
      count,
      shas: this.shas.subarray(0, count * 32),
      paths: this.paths.subarray(0, this.used),
      pathStart: this.pathStart.subarray(0, count + 1),
      keyStart: this.keyStart.subarray(0, count),
      sorted: this.sorted,
      index: undefined,
    };
    if (this.sorted) return base;
    const index = buildIndex(base);
    return index && { ...base, index };
  }
}

/** The list packed from its bytes, or undefined when it is not the usual plain, ASCII list of distinct names. */
export function packHashes(bytes: Buffer): PackedHashes | undefined {
  if (bytes.length === 0) return undefined;
  const packer = new Packer(bytes.length);
  return packer.lines(bytes, 0, bytes.length, true) < 0 ? undefined : packer.done();
}

/** Bytes read at a time: a line longer than this is left to the text parser. */
const CHUNK = 4 * 1024 * 1024;

/**
 * The file packed as it is read, or undefined when it is not one to pack (or cannot be read,
 * is too large, grows while read): the caller then reads it as text, which says why.
 */
export async function readPackedHashes(path: string): Promise<PackedHashes | undefined> {
  let opened: Awaited<ReturnType<typeof openRegularFile>>;
  try {
    opened = await openRegularFile(path, { followLinks: true });
  } catch {
    return undefined;
  }
  const { handle, size } = opened;
  try {
    if (size === 0 || size > MAX_INPUT_BYTES) return undefined;
    const packer = new Packer(size);
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, size + 1));
    let have = 0;
    let offset = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, have, buf.length - have, offset);
      offset += bytesRead;
      // Grown while read: the room was sized for the file as it was opened.
      if (offset > size) return undefined;
      have += bytesRead;
      const final = bytesRead === 0;
      const rest = packer.lines(buf, 0, have, final);
      if (rest < 0) return undefined;
      if (final) return packer.done();
      buf.copyWithin(0, rest, have);
      have -= rest;
      if (have === buf.length) return undefined;
    }
  } finally {
    await handle.close();
  }
}
