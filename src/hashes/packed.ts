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

/** Byte classes, one table load per byte: 1 lowercase hex, 2 other printable ASCII, 3 slash, 0 anything else. */
const CLASS = new Uint8Array(256);
for (let c = 0x20; c <= 0x7e; c++) CLASS[c] = 2;
for (const c of '0123456789abcdef') CLASS[c.charCodeAt(0)] = 1;
CLASS[SLASH] = 3;
// Backslashes are escapes in sha256sum's format: left to the text parser.
CLASS[92] = 0;

/** True when `bytes[start, end)` is "" or "." or "..": a segment no normalized path has. */
function badSegment(bytes: Buffer, start: number, end: number): boolean {
  const n = end - start;
  if (n === 0) return true;
  if (n === 1) return bytes[start] === DOT;
  return n === 2 && bytes[start] === DOT && bytes[start + 1] === DOT;
}

/** -1, 0 or 1: byte order of two ranges of one buffer (a prefix sorts first). */
export function compareRanges(
  bytes: Buffer,
  a: number,
  aEnd: number,
  other: Buffer,
  b: number,
  bEnd: number,
): number {
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
  // Empty: the text parser gives the located error.
  if (size === 0) return undefined;
  // Every packed line takes at least 68 bytes with its LF: room for all, trimmed at the end.
  const room = Math.floor(size / 68) + 1;
  const lineStart = new Int32Array(room);
  const pathStart = new Int32Array(room);
  const keyStart = new Int32Array(room);
  const pathEnd = new Int32Array(room);
  const cap = maxInputLines();
  let count = 0;
  // One walk over the bytes (no native call per line: a million calls cost more than the walk).
  for (let pos = 0; pos < size; ) {
    // Past the line cap: the text parser gives the located error.
    if (count >= cap || pos + 67 > size || bytes[pos + 64] !== 32) return undefined;
    const mode = bytes[pos + 65];
    if (mode !== 32 && mode !== 42) return undefined;
    for (let i = pos; i < pos + 64; i++) if (CLASS[bytes[i] as number] !== 1) return undefined;
    const start = pos + 66;
    // A leading "./" is stripped by the text parser: left to it.
    if (bytes[start] === DOT && bytes[start + 1] === SLASH) return undefined;
    let segment = start;
    let end = start;
    for (; end < size; end++) {
      const k = CLASS[bytes[end] as number];
      if (k === 1 || k === 2) continue;
      if (k === 3) {
        if (badSegment(bytes, segment, end)) return undefined;
        segment = end + 1;
        continue;
      }
      if (bytes[end] === 10) break;
      // Control characters (NUL, CR, tab), non-ASCII and backslashes: left to the text parser.
      return undefined;
    }
    if (badSegment(bytes, segment, end)) return undefined;
    // Keys strictly rising: each name once, and the order rows are listed in.
    if (count > 0) {
      const before = count - 1;
      if (
        compareRanges(bytes, keyStart[before] as number, pathEnd[before] as number, bytes, segment, end) >= 0
      )
        return undefined;
    }
    lineStart[count] = pos;
    pathStart[count] = start;
    keyStart[count] = segment;
    pathEnd[count] = end;
    count++;
    pos = end + 1;
  }
  return {
    bytes,
    count,
    lineStart: lineStart.subarray(0, count),
    pathStart: pathStart.subarray(0, count),
    keyStart: keyStart.subarray(0, count),
    pathEnd: pathEnd.subarray(0, count),
  };
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

/**
 * The folders the paths name ("" for bare names), each once, in first-seen order. Folders are
 * told apart by a hash of their bytes and a byte comparison, so a folder is decoded once, not
 * once per line (a list need not be grouped by folder).
 */
export function packedFolders(p: PackedHashes): string[] {
  const firstRow = new Map<number, number[]>();
  const out: string[] = [];
  const bytes = p.bytes;
  for (let row = 0; row < p.count; row++) {
    const start = p.pathStart[row] as number;
    const end = p.keyStart[row] as number;
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
    // A small integer key: the map keeps it unboxed.
    h &= 0x3fffffff;
    const rows = firstRow.get(h);
    let known = false;
    if (rows !== undefined)
      for (const r of rows)
        if (
          compareRanges(bytes, p.pathStart[r] as number, p.keyStart[r] as number, bytes, start, end) === 0
        ) {
          known = true;
          break;
        }
    if (known) continue;
    if (rows === undefined) firstRow.set(h, [row]);
    else rows.push(row);
    out.push(packedFolder(p, row));
  }
  return out;
}

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
export function unpackHashes(
  p: PackedHashes,
): Array<{ path: string; sha256: string; line: number; key: string }> {
  const out = new Array<{ path: string; sha256: string; line: number; key: string }>(p.count);
  for (let row = 0; row < p.count; row++)
    out[row] = { path: packedPath(p, row), sha256: packedSha(p, row), line: row + 1, key: packedKey(p, row) };
  return out;
}
