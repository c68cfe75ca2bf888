/**
 * Byte counts in board limits: a whole number, or a size as people write it (`4GiB`, `4G`,
 * `512MiB`, `512m`). K, M, G and T are powers of 1024, as Docker reads them (`4GB` too).
 */
import * as z from 'zod/mini';

const SIZE = /^([0-9]+)\s*([KMGT])(?:i?B)?$/i;
const POWER: Record<string, number> = { K: 1, M: 2, G: 3, T: 4 };

/** Bytes of a size string, or undefined when it is not one. */
export function parseByteSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * 1024 ** (POWER[(m[2] ?? '').toUpperCase()] ?? 0);
  return Number.isSafeInteger(n) ? n : undefined;
}

const human = (n: number) =>
  n % 1024 ** 3 === 0 ? `${n / 1024 ** 3}GiB` : n % 1024 ** 2 === 0 ? `${n / 1024 ** 2}MiB` : `${n}`;

/** A whole number of bytes (at least `min`), or a size such as `4GiB`; parsed to bytes. */
export const byteSize = (min: number) => {
  const expected = `expected bytes: a whole number, or a size such as 4GiB, 512MiB or 4G (at least ${human(min)})`;
  return z.pipe(
    z.union([z.int(), z.string()], { error: expected }),
    z.transform((value: number | string, ctx) => {
      const bytes = typeof value === 'number' ? value : parseByteSize(value);
      if (bytes === undefined || bytes < min) {
        ctx.issues.push({ code: 'custom', message: expected, input: value });
        return z.NEVER;
      }
      return bytes;
    }),
  );
};
