/**
 * A hashes.txt held as its bytes and flat offset arrays, for the usual large list: every line a
 * plain `<64 lowercase hex>  <path>` (or ` *<path>`) in printable ASCII, the paths already
 * normalized, and the file names (the comparison keys) strictly rising. No string or object is
 * made per line; rows become objects only when something asks for them. Anything else (a bad
 * line, UTF-8 names, `./` prefixes, CR line ends, names out of order or repeated) is not packed:
 * the caller parses the text as before, which also says what is wrong with it.
 */
import { maxInputLines } from './limits.js';

export interface PackedHashes {
  readonly bytes: Buffer;
  readonly count: number;
  /** Where each line (its hash) starts. */
  readonly lineStart: Int32Array;
  /** Where each path starts; it ends where the key ends. */
  readonly pathStart: Int32Array;
  /** Where each key (the file name) starts. */
  readonly keyStart: Int32Array;
  /** Where each path and key ends. */
  readonly pathEnd: Int32Array;
}

const SLASH = 47;
const DOT = 46;

/** True when `bytes[start, end)` is "" or "." or "..": a segment no normalized path has. */
function badSegment(bytes: Buffer, start: number, end: number): boolean {
  const n = end - start;
  if (n === 0) return true;
  if (n === 1) return bytes[start] === DOT;
  return n === 2 && bytes[start] === DOT && bytes[start + 1] === DOT;
}

/** -1, 0 or 1: byte order of two ranges of one buffer (a prefix sorts first). */
export function compareRanges(bytes: Buffer, a: number, aEnd: number, other: Buffer, b: number, bEnd: number): number {
  const n = Math.min(aEnd - a, bEnd - b);
  for (let i = 0; i < n; i++) {
    const x = bytes[a + i] as number;
    const y = other[b + i] as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  const d = aEnd - a - (bEnd - b);
  return d < 0 ? -1 : d > 0 ? 1 : 0;
}

/** The list packed, or undefined when it is not the usual plain, ASCII, name-ordered list. */
export function packHashes(bytes: Buffer): PackedHashes | undefined {
  const size = bytes.length;
  let count = 0;
  for (let pos = 0; pos < size; count++) {
    const lf = bytes.indexOf(10, pos);
    pos = lf < 0 ? size : lf + 1;
  }
  // Empty, or past the line cap: the text parser gives the located error.
  if (count === 0 || count > maxInputLines()) return undefined;
  const lineStart = new Int32Array(count);
  const pathStart = new Int32Array(count);
  const keyStart = new Int32Array(count);
  const pathEnd = new Int32Array(count);
  let pos = 0;
  for (let row = 0; row < count; row++) {
    const lf = bytes.indexOf(10, pos);
    const end = lf < 0 ? size : lf;
    if (end - pos < 67 || bytes[pos + 64] !== 32) return undefined;
    const mode = bytes[pos + 65];
    if (mode !== 32 && mode !== 42) return undefined;
    for (let i = pos; i < pos + 64; i++) {
      const c = bytes[i] as number;
      if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return undefined;
    }
    const start = pos + 66;
    // A leading "./" is stripped by the text parser: left to it.
    if (bytes[start] === DOT && bytes[start + 1] === SLASH) return undefined;
    let segment = start;
    for (let i = start; i < end; i++) {
      const c = bytes[i] as number;
      // Control characters (NUL, CR, tab), non-ASCII and backslashes: left to the text parser.
      if (c < 0x20 || c > 0x7e || c === 92) return undefined;
      if (c === SLASH) {
        if (badSegment(bytes, segment, i)) return undefined;
        segment = i + 1;
      }
    }
    if (badSegment(bytes, segment, end)) return undefined;
    // Keys strictly rising: each name once, and the order rows are listed in.
    if (row > 0) {
      const before = row - 1;
      if (compareRanges(bytes, keyStart[before] as number, pathEnd[before] as number, bytes, segment, end) >= 0)
        return undefined;
    }
    lineStart[row] = pos;
    pathStart[row] = start;
    keyStart[row] = segment;
    pathEnd[row] = end;
    pos = end + 1;
  }
  return { bytes, count, lineStart, pathStart, keyStart, pathEnd };
}

/** The key (file name) of one row. */
export const packedKey = (p: PackedHashes, row: number): string =>
  p.bytes.toString('latin1', p.keyStart[row] as number, p.pathEnd[row] as number);

/** The sha256 (hex) of one row. */
export const packedSha = (p: PackedHashes, row: number): string => {
  const start = p.lineStart[row] as number;
  return p.bytes.toString('latin1', start, start + 64);
};

/** The path of one row. */
export const packedPath = (p: PackedHashes, row: number): string =>
  p.bytes.toString('latin1', p.pathStart[row] as number, p.pathEnd[row] as number);

/** The folder part of one row's path ("" for a bare name). */
export const packedFolder = (p: PackedHashes, row: number): string => {
  const start = p.pathStart[row] as number;
  const key = p.keyStart[row] as number;
  return key === start ? '' : p.bytes.toString('latin1', start, key - 1);
};

/** True when the hashes of `row` in both lists are equal. */
export function sameSha(a: PackedHashes, b: PackedHashes, row: number): boolean {
  const x = a.lineStart[row] as number;
  const y = b.lineStart[row] as number;
  const ab = a.bytes;
  const bb = b.bytes;
  for (let i = 0; i < 64; i++) if (ab[x + i] !== bb[y + i]) return false;
  return true;
}

/** True when both lists have the same keys in the same rows. */
export function sameKeys(a: PackedHashes, b: PackedHashes): boolean {
  if (a.count !== b.count) return false;
  for (let row = 0; row < a.count; row++) {
    if (
      compareRanges(
        a.bytes,
        a.keyStart[row] as number,
        a.pathEnd[row] as number,
        b.bytes,
        b.keyStart[row] as number,
        b.pathEnd[row] as number,
      ) !== 0
    )
      return false;
  }
  return true;
}

/** The rows as the objects the text parser makes (path, sha256, line, key). */
export function unpackHashes(p: PackedHashes): Array<{ path: string; sha256: string; line: number; key: string }> {
  const out = new Array<{ path: string; sha256: string; line: number; key: string }>(p.count);
  for (let row = 0; row < p.count; row++)
    out[row] = { path: packedPath(p, row), sha256: packedSha(p, row), line: row + 1, key: packedKey(p, row) };
  return out;
}
