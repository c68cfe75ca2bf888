/**
 * The key index of a packed hashes list whose names do not rise: open addressing over the
 * names' hashes, built once, so a key of another list is found in one probe or a few.
 */
import { compareKeys, hashRange, type PackedHashes } from './packedRows.js';

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
export function buildIndex(p: Omit<PackedHashes, 'index'>): Int32Array | undefined {
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
