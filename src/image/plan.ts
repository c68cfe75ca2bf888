/**
 * Which store paths go into which layer. Paths that many others depend on, and
 * large paths, get a layer of their own (they change rarely and are shared);
 * the rest share the last layer. The order is a pure function of the closure, so
 * the same closure always gives the same plan, and a one-package bump only
 * touches the layers that hold the changed paths.
 */
export interface StorePath {
  path: string;
  narSize: number;
  references: string[];
}

export interface LayerPlanOptions {
  /** Layers for store paths (the root layer comes on top of these). Docker allows 125 in all. */
  maxLayers: number;
}

/** For each path, how many paths of the closure depend on it, directly or not. */
export function popularity(paths: readonly StorePath[]): Map<string, number> {
  const byPath = new Map(paths.map((p) => [p.path, p]));
  const counts = new Map<string, number>(paths.map((p) => [p.path, 0]));
  for (const p of paths) {
    const seen = new Set<string>();
    const stack = p.references.filter((r) => r !== p.path);
    while (stack.length > 0) {
      const r = stack.pop()!;
      if (seen.has(r) || !byPath.has(r)) continue;
      seen.add(r);
      counts.set(r, (counts.get(r) ?? 0) + 1);
      for (const next of byPath.get(r)!.references) if (next !== r) stack.push(next);
    }
  }
  return counts;
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Store path names without their hash, so a rebuilt package keeps its place in the order. */
const nameOf = (path: string) => path.replace(/^\/nix\/store\/[0-9a-z]{32}-/, '');

export function planLayers(paths: readonly StorePath[], opts: LayerPlanOptions): string[][] {
  if (paths.length === 0) return [];
  const max = Math.max(1, opts.maxLayers);
  const pop = popularity(paths);
  const ranked = [...paths].sort(
    (a, b) =>
      (pop.get(b.path) ?? 0) - (pop.get(a.path) ?? 0) ||
      b.narSize - a.narSize ||
      byteOrder(nameOf(a.path), nameOf(b.path)) ||
      byteOrder(a.path, b.path),
  );
  if (ranked.length <= max) return ranked.map((p) => [p.path]);
  const own = ranked.slice(0, max - 1).map((p) => [p.path]);
  const rest = ranked
    .slice(max - 1)
    .map((p) => p.path)
    .sort(byteOrder);
  return [...own, rest];
}
