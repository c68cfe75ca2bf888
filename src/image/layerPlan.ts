/**
 * Which store paths go into which layer.
 *
 * Like nixpkgs' streamLayeredImage and nix2container, paths are ranked by
 * popularity (how many paths of the closure depend on them, directly or not):
 * a libc that everything needs changes rarely and is shared by every image, so
 * it earns a layer of its own. Large paths, and the roots the image asks for,
 * also get their own layer, so a bump of one package rewrites only that layer.
 * Whatever does not fit under the cap is merged into the last layer.
 *
 * The plan is a pure function of the closure: input order never matters, and a
 * rebuilt package (new hash, same name) keeps its place, so a one-package bump
 * only changes the layers holding the changed paths (and the merged remainder).
 */
import { ImageBuildError } from '../util/errors.js';

/** One store path as `nix path-info --json --recursive` describes it. */
export interface StorePathInfo {
  path: string;
  narSize: number;
  references: string[];
}

export interface LayerPlanOptions {
  /** Most layers for store paths (the root layer comes on top). Docker allows 125 in all; ~100 is a good cap. */
  maxLayers: number;
  /** Paths that get a layer of their own whatever their popularity (the image's packages, a toolchain tree). */
  roots?: readonly string[];
  /** Paths at least this large (NAR bytes) get a layer of their own. Default 64 MiB. */
  largeBytes?: number;
}

/** Docker refuses images with more than this many layers. */
export const DOCKER_MAX_LAYERS = 125;
export const DEFAULT_LARGE_BYTES = 64 * 1024 * 1024;

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A store path's name without its hash, so a rebuilt package keeps its place in the order. */
export function storeName(path: string): string {
  return path.replace(/^\/nix\/store\/[0-9a-z]{32}-/, '');
}

/**
 * For each path, how many other paths of the closure reach it through references.
 * Uses one reachability bitset per path, filled in post-order, so a 2,000-path
 * closure costs a few milliseconds rather than a DFS per path.
 */
export function popularity(paths: readonly StorePathInfo[]): Map<string, number> {
  const sorted = [...paths].sort((a, b) => byteOrder(a.path, b.path));
  const index = new Map(sorted.map((p, i) => [p.path, i]));
  const n = sorted.length;
  const words = Math.ceil(n / 32);
  const reach: (Uint32Array | undefined)[] = new Array(n);
  const onStack = new Uint8Array(n);
  const children = sorted.map((p) =>
    [...new Set(p.references)]
      .map((r) => index.get(r))
      .filter((i): i is number => i !== undefined)
      .sort((a, b) => a - b),
  );
  const visit = (root: number) => {
    // Iterative post-order DFS: closures can be deep enough to overflow recursion.
    const stack: Array<{ node: number; next: number }> = [{ node: root, next: 0 }];
    onStack[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const kids = children[top.node]!;
      if (top.next < kids.length) {
        const c = kids[top.next++]!;
        // Self-references and (impossible in a valid store) cycles are skipped.
        if (reach[c] === undefined && onStack[c] === 0) {
          onStack[c] = 1;
          stack.push({ node: c, next: 0 });
        }
        continue;
      }
      const set = new Uint32Array(words);
      for (const c of kids) {
        if (c === top.node) continue;
        set[c >>> 5]! |= 1 << (c & 31);
        const sub = reach[c];
        if (sub) for (let w = 0; w < words; w++) set[w]! |= sub[w]!;
      }
      set[top.node >>> 5]! &= ~(1 << (top.node & 31));
      reach[top.node] = set;
      onStack[top.node] = 0;
      stack.pop();
    }
  };
  for (let i = 0; i < n; i++) if (reach[i] === undefined) visit(i);
  const counts = new Array<number>(n).fill(0);
  for (const set of reach) {
    for (let w = 0; w < words; w++) {
      let bits = set![w]!;
      while (bits !== 0) {
        const low = bits & -bits;
        counts[w * 32 + (31 - Math.clz32(low))]!++;
        bits ^= low;
      }
    }
  }
  return new Map(sorted.map((p, i) => [p.path, counts[i]!]));
}

/**
 * Groups of store paths, one group per layer, bottom layer first. Each group is
 * sorted; every path appears exactly once. At most `maxLayers` groups.
 */
export function planLayers(paths: readonly StorePathInfo[], opts: LayerPlanOptions): string[][] {
  if (!Number.isInteger(opts.maxLayers) || opts.maxLayers < 1 || opts.maxLayers > DOCKER_MAX_LAYERS - 1) {
    throw new ImageBuildError(
      `maxLayers must be an integer from 1 to ${DOCKER_MAX_LAYERS - 1}, got ${opts.maxLayers}`,
      'pass a layer cap such as 100 (Docker refuses more than 125 layers, and the root layer needs one)',
    );
  }
  const known = new Set<string>();
  for (const p of paths) {
    if (known.has(p.path)) {
      throw new ImageBuildError(
        `store path ${p.path} is listed twice in the closure`,
        'pass each store path once',
      );
    }
    known.add(p.path);
  }
  for (const p of paths) {
    const missing = p.references.find((r) => !known.has(r));
    if (missing) {
      throw new ImageBuildError(
        `the closure is incomplete: ${p.path} references ${missing}, which is not in it`,
        'compute the closure with `nix path-info --recursive` so every reference is included',
      );
    }
  }
  if (paths.length === 0) return [];
  const pop = popularity(paths);
  const roots = new Set(opts.roots ?? []);
  const large = opts.largeBytes ?? DEFAULT_LARGE_BYTES;
  // Layer order: most depended-on first (they change least, so lower layers stay
  // shared), then larger, then by name without the hash, then the full path.
  const order = (a: StorePathInfo, b: StorePathInfo) =>
    (pop.get(b.path) ?? 0) - (pop.get(a.path) ?? 0) ||
    b.narSize - a.narSize ||
    byteOrder(storeName(a.path), storeName(b.path)) ||
    byteOrder(a.path, b.path);
  const ranked = [...paths].sort(order);
  if (ranked.length <= opts.maxLayers) return ranked.map((p) => [p.path]);

  // Who gets a layer of its own: roots and large paths first, then by rank.
  const promoted = (p: StorePathInfo) => roots.has(p.path) || p.narSize >= large;
  const selection = [...ranked].sort((a, b) => Number(promoted(b)) - Number(promoted(a)) || order(a, b));
  const own = new Set(selection.slice(0, opts.maxLayers - 1).map((p) => p.path));
  const groups = ranked.filter((p) => own.has(p.path)).map((p) => [p.path]);
  const rest = ranked
    .filter((p) => !own.has(p.path))
    .map((p) => p.path)
    .sort(byteOrder);
  return [...groups, rest];
}
