/**
 * The rows of a packed hashes list (see packed.ts): its shape, and each row's key, sha256,
 * path and folder read back, compared by bytes, or made into the objects the text parser makes.
 */

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
/** What locating a key needs. */
export type KeyedRows = Pick<PackedHashes, 'paths' | 'keyStart' | 'pathStart'>;

/** Where a row's key ends. */
export const keyEnd = (p: KeyedRows, row: number): number => p.pathStart[row + 1] as number;
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
  for (let row = 0; row < a.count; row++) if (compareKeys(a, row, b, row) !== 0) return false;
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

/** FNV-1a of `bytes[start, end)`, mixed so its low bits spread. */
export function hashRange(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  h ^= h >>> 16;
  return Math.imul(h, 0x7feb352d) >>> 0;
}

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
