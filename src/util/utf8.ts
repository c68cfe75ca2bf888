/**
 * Locating text that is not UTF-8: the first bad byte and its line and column,
 * so a config or hashes file can be refused with a position, never a stack trace.
 */

/** 1-based line and column (in characters) of the byte at `offset`. */
export function bytePosition(bytes: Buffer, offset: number): { line: number; col: number } {
  const before = bytes.subarray(0, offset);
  const lastNewline = before.lastIndexOf(0x0a);
  let line = 1;
  for (let i = before.indexOf(0x0a); i >= 0; i = before.indexOf(0x0a, i + 1)) line++;
  const lineText = before.subarray(lastNewline + 1).toString('utf8');
  return { line, col: lineText.length + 1 };
}

/** Byte offset of the first byte that does not start a well-formed UTF-8 sequence, if any. */
export function firstInvalidUtf8(bytes: Buffer): number | undefined {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return undefined;
  } catch {
    // Walk the sequences by the rules of RFC 3629 (no overlongs, no surrogates, ≤ U+10FFFF).
    for (let i = 0; i < bytes.length; ) {
      const len = sequenceLength(bytes, i);
      if (len === 0) return i;
      i += len;
    }
    return bytes.length;
  }
}

function sequenceLength(b: Buffer, i: number): number {
  const c0 = b[i]!;
  const cont = (j: number, lo = 0x80, hi = 0xbf) => {
    const c = b[i + j];
    return c !== undefined && c >= lo && c <= hi;
  };
  if (c0 < 0x80) return 1;
  if (c0 >= 0xc2 && c0 <= 0xdf) return cont(1) ? 2 : 0;
  if (c0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c0 >= 0xe1 && c0 <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c0 >= 0xf1 && c0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
