/**
 * Creation order of copied entries: reprotest's "file ordering" variation.
 * The same entries come out whatever the order; only the order in which the
 * file system sees them created differs, which changes readdir() order on
 * many file systems and so exposes builds that depend on it.
 */
export type CreationOrder = 'sorted' | 'reverse' | 'shuffled';

/** Byte-wise comparison of UTF-8 paths: the same on every machine and locale. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** mulberry32: a tiny seeded generator, so a shuffled run can be repeated from its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function orderEntries<T extends { rel: string }>(
  entries: readonly T[],
  order: CreationOrder,
  seed = 0,
): T[] {
  const sorted = [...entries].sort((x, y) => comparePaths(x.rel, y.rel));
  if (order === 'sorted') return sorted;
  if (order === 'reverse') return sorted.reverse();
  const rnd = mulberry32(seed);
  for (let i = sorted.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [sorted[i], sorted[j]] = [sorted[j] as T, sorted[i] as T];
  }
  return sorted;
}
