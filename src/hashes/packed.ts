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

export interface PackedHashes {
  readonly count: number;
  /** Each row's sha256, 32 bytes a row. */
  readonly shas: Buffer;
  /** Every row's path bytes, one after the other. */
  readonly paths: Buffer;
  /** Where each row's path starts in `paths`; entry `count` is the end of the last. */
  readonly pathStart: Int32Array;
  /** Where each row's key (its file name) starts in `paths`; it ends where its path ends. */
  readonly keyStart: Int32Array;
  /** True when the keys strictly rise: rows are already in comparison order. */
  readonly sorted: boolean;
  /** The key index (see keyIndex) when the keys do not rise; undefined when they do. */
  readonly index: Int32Array | undefined;
}

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

/** -1, 0 or 1: byte order of two ranges (a prefix sorts first). */
export function compareRanges(
  bytes: Uint8Array,
  a: number,
  aEnd: number,
  other: Uint8Array,
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

/** FNV-1a of `bytes[start, end)`, mixed so its low bits spread. */
function hashRange(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  h ^= h >>> 16;
  return Math.imul(h, 0x7feb352d) >>> 0;
}

/** What locating a key needs. */
type KeyedRows = Pick<PackedHashes, 'paths' | 'keyStart' | 'pathStart'>;

/** Where a row's key ends. */
const keyEnd = (p: KeyedRows, row: number): number => p.pathStart[row + 1] as number;

/**
 * How a slot of the key index is laid out: the row + 1 in its low bits, and in the bits above
 * them (when the row count leaves room) a tag of the key's hash, so a probe that meets another
 * key is passed over without reading that key's bytes (a random read of memory each).
 */
function rowBitsFor(count: number): number {
  // The smallest number of bits that holds count + 1 (counts stay far below 2^31).
  return Math.min(31, 32 - Math.clz32(count));
}

/** The slot value of `row` whose key hashes to `h`: tag bits (high bits of the hash) above row + 1. */
const slotValue = (h: number, row: number, rowBits: number): number =>
  rowBits >= 31 ? row + 1 : (((h >>> (rowBits + 1)) << rowBits) | (row + 1)) & 0x7fffffff;

/**
 * An open-addressing table of the keys: slot = tag and row + 1 (0 free, see rowBitsFor), probed
 * linearly from the key's hash. Undefined when a key occurs twice.
 */
function buildIndex(p: Omit<PackedHashes, 'index'>): Int32Array | undefined {
  let size = 16;
  while (size < p.count * 2) size *= 2;
  const index = new Int32Array(size);
  const mask = size - 1;
  const rowBits = rowBitsFor(p.count);
  for (let row = 0; row < p.count; row++) {
    const h = keyHash(p, row);
    const value = slotValue(h, row, rowBits);
    let slot = h & mask;
    for (let at = index[slot] as number; at !== 0; at = index[slot] as number) {
      if (sameTag(at, value, rowBits) && compareKeys(p, rowOfSlot(at, rowBits), p, row) === 0)
        return undefined;
      slot = (slot + 1) & mask;
    }
    index[slot] = value;
  }
  return index;
}

const sameTag = (a: number, b: number, rowBits: number): boolean =>
  rowBits >= 31 || a >>> rowBits === b >>> rowBits;
const rowOfSlot = (at: number, rowBits: number): number =>
  (rowBits >= 31 ? at : at & ((1 << rowBits) - 1)) - 1;

/** The list's key index: the one built while packing, or one built now for a list whose keys rise. */
export function keyIndex(p: PackedHashes): Int32Array {
  return p.index ?? (buildIndex(p) as Int32Array);
}

/** The hash a key is looked up by (see findKey). */
export function keyHash(p: Pick<PackedHashes, 'paths' | 'keyStart' | 'pathStart'>, row: number): number {
  return hashRange(p.paths, p.keyStart[row] as number, p.pathStart[row + 1] as number);
}

/** The row of `p` (with `index`) whose key equals `from`'s row `row` (hash `h`), or -1. */
export function findKey(
  p: PackedHashes,
  index: Int32Array,
  h: number,
  from: PackedHashes,
  row: number,
): number {
  const mask = index.length - 1;
  const rowBits = rowBitsFor(p.count);
  const value = slotValue(h, 0, rowBits);
  for (let slot = h & mask, at = index[slot] as number; at !== 0; at = index[slot] as number) {
    if (sameTag(at, value, rowBits)) {
      const other = rowOfSlot(at, rowBits);
      if (compareKeys(p, other, from, row) === 0) return other;
    }
    slot = (slot + 1) & mask;
  }
  return -1;
}

/** True when row `a` of `p` and row `b` of `q` hold the same sha256. */
export function sameSha(p: PackedHashes, a: number, q: PackedHashes, b: number): boolean {
  const x = a * 32;
  const y = b * 32;
  for (let i = 0; i < 32; i++) if (p.shas[x + i] !== q.shas[y + i]) return false;
  return true;
}

/** True when both lists have the same keys in the same rows. */
export function sameKeys(a: PackedHashes, b: PackedHashes): boolean {
  if (a.count !== b.count) return false;
  for (let row = 0; row < a.count; row++)
    if (
      compareRanges(
        a.paths,
        a.keyStart[row] as number,
        keyEnd(a, row),
        b.paths,
        b.keyStart[row] as number,
        keyEnd(b, row),
      ) !== 0
    )
      return false;
  return true;
}

/** -1, 0 or 1: byte order of row `a`'s key in `p` and row `b`'s in `q`. */
export const compareKeys = (p: KeyedRows, a: number, q: KeyedRows, b: number): number =>
  compareRanges(
    p.paths,
    p.keyStart[a] as number,
    keyEnd(p, a),
    q.paths,
    q.keyStart[b] as number,
    keyEnd(q, b),
  );

/** The key (file name) of one row. */
export const packedKey = (p: PackedHashes, row: number): string =>
  p.paths.toString('latin1', p.keyStart[row] as number, keyEnd(p, row));

/** The sha256 (hex) of one row. */
export const packedSha = (p: PackedHashes, row: number): string =>
  p.shas.toString('hex', row * 32, row * 32 + 32);

/** The path of one row. */
export const packedPath = (p: PackedHashes, row: number): string =>
  p.paths.toString('latin1', p.pathStart[row] as number, keyEnd(p, row));

/** The folder part of one row's path ("" for a bare name). */
export const packedFolder = (p: PackedHashes, row: number): string => {
  const start = p.pathStart[row] as number;
  const key = p.keyStart[row] as number;
  return key === start ? '' : p.paths.toString('latin1', start, key - 1);
};

/**
 * The folders the paths name ("" for bare names), each once, in first-seen order. Folders are
 * told apart by a hash of their bytes and a byte comparison, so a folder is decoded once, not
 * once per line (a list need not be grouped by folder).
 */
export function packedFolders(p: PackedHashes): string[] {
  const firstRow = new Map<number, number[]>();
  const out: string[] = [];
  const bytes = p.paths;
  for (let row = 0; row < p.count; row++) {
    const start = p.pathStart[row] as number;
    const end = p.keyStart[row] as number;
    // A small integer key: the map keeps it unboxed.
    const h = hashRange(bytes, start, end) & 0x3fffffff;
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

/** The rows as the objects the text parser makes (path, sha256, line, key). */
export function unpackHashes(
  p: PackedHashes,
): Array<{ path: string; sha256: string; line: number; key: string }> {
  const out = new Array<{ path: string; sha256: string; line: number; key: string }>(p.count);
  for (let row = 0; row < p.count; row++)
    out[row] = { path: packedPath(p, row), sha256: packedSha(p, row), line: row + 1, key: packedKey(p, row) };
  return out;
}
