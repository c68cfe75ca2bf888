import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { planLayers, popularity, type StorePathInfo } from '../../src/image/layerPlan.js';
import { ImageBuildError } from '../../src/util/errors.js';

/** A deterministic 32-character nix-like hash from a seed. */
const hash = (seed: string) =>
  [...createHash('sha256').update(seed).digest()]
    .slice(0, 32)
    .map((b) => '0123456789abcdfghijklmnpqrsvwxyz'[b % 32])
    .join('');
const sp = (name: string, version = '1') => `/nix/store/${hash(`${name}-${version}`)}-${name}`;

/**
 * ~50 packages over a shared base (glibc ← gcc-lib ← bash/coreutils/zlib…),
 * some of which depend on each other, like a devShell's closure. `bump` gives
 * one leaf package a new hash (and optionally a new size).
 */
function closure(bump?: { name: string; size?: number }): StorePathInfo[] {
  const info = new Map<string, StorePathInfo>();
  const add = (name: string, narSize: number, deps: string[]) => {
    const v = bump?.name === name ? '2' : '1';
    const size = bump?.name === name && bump.size !== undefined ? bump.size : narSize;
    info.set(name, { path: sp(name, v), narSize: size, references: deps.map((d) => info.get(d)!.path) });
  };
  add('glibc', 30e6, []);
  add('gcc-lib', 8e6, ['glibc']);
  add('zlib', 2e5, ['glibc']);
  add('openssl', 6e6, ['glibc', 'zlib']);
  add('ncurses', 3e6, ['glibc']);
  add('bash', 5e6, ['glibc', 'ncurses']);
  add('coreutils', 9e6, ['glibc', 'gcc-lib']);
  for (let i = 0; i < 40; i++) {
    const deps = [
      'glibc',
      'bash',
      ...(i % 3 === 0 ? ['openssl'] : []),
      ...(i % 5 === 0 && i > 0 ? [`pkg${i - 1}`] : []),
    ];
    // Equal sizes on purpose: ties are broken by name, never by hash, so a bump keeps its place.
    add(`pkg${i}`, 1e5 * ((i % 4) + 1), deps);
  }
  add('gcc', 150e6, ['glibc', 'gcc-lib', 'coreutils', 'bash']);
  // Self-references are normal in nix.
  for (const p of info.values()) if (p.path.includes('glibc')) p.references.push(p.path);
  return [...info.values()];
}

const key = (g: string[]) => g.join(',');

describe('layer planning', () => {
  it('counts transitive dependants as popularity', () => {
    const pop = popularity(closure());
    expect(pop.get(sp('glibc'))).toBe(closure().length - 1);
    expect(pop.get(sp('zlib'))).toBe(1 + pop.get(sp('openssl'))!);
    expect(pop.get(sp('gcc'))).toBe(0);
  });

  it('is independent of input order and reference order, covers every path once, and respects the cap', () => {
    const paths = closure();
    const a = planLayers(paths, { maxLayers: 20 });
    const shuffled = [...paths].reverse().map((p) => ({ ...p, references: [...p.references].reverse() }));
    expect(planLayers(shuffled, { maxLayers: 20 })).toEqual(a);
    expect(a).toHaveLength(20);
    expect(a.flat().sort()).toEqual(paths.map((p) => p.path).sort());
    expect(new Set(a.flat()).size).toBe(paths.length);
    // Most depended-on first; the large leaf (gcc, 150 MB) gets its own layer though nothing needs it.
    expect(a[0]).toEqual([sp('glibc')]);
    expect(a.slice(0, -1)).toContainEqual([sp('gcc')]);
    // The merged remainder is last and sorted.
    const rest = a[a.length - 1]!;
    expect(rest.length).toBe(paths.length - 19);
    expect([...rest].sort()).toEqual(rest);
  });

  it('gives every path its own layer when the closure fits under the cap', () => {
    const plan = planLayers(closure(), { maxLayers: 100 });
    expect(plan.every((g) => g.length === 1)).toBe(true);
  });

  it('promotes roots to layers of their own', () => {
    const paths = closure();
    const without = planLayers(paths, { maxLayers: 10 });
    expect(without.slice(0, -1)).not.toContainEqual([sp('pkg7')]);
    const withRoot = planLayers(paths, { maxLayers: 10, roots: [sp('pkg7')] });
    expect(withRoot.slice(0, -1)).toContainEqual([sp('pkg7')]);
  });

  for (const [label, bump, cap] of [
    ['a hash-only bump, remainder untouched', { name: 'pkg17' }, 30],
    ['a bump that also changes the size', { name: 'pkg17', size: 123 }, 30],
    ['a bump of a package in the merged remainder', { name: 'pkg2' }, 30],
    ['a bump with every package in its own layer', { name: 'pkg17' }, 100],
  ] as const) {
    it(`one-package bump of a ~50-package closure keeps ≥90 % of layers (${label})`, () => {
      const before = planLayers(closure(), { maxLayers: cap });
      const after = planLayers(closure(bump), { maxLayers: cap });
      const old = new Set(before.map(key));
      const changed = after.filter((g) => !old.has(key(g)));
      const kept = after.length - changed.length;
      expect(kept / after.length).toBeGreaterThanOrEqual(0.9);
      // Only layers holding the bumped path, or the merged remainder, may change…
      const bumped = sp(bump.name, '2');
      const remainder = after[after.length - 1]!;
      for (const g of changed) {
        const ok = g.includes(bumped) || (cap < closure().length && g === remainder);
        // …except one path swapped across the cap boundary when the size changed.
        expect(ok || ('size' in bump && g.length === 1), `unexpected changed layer ${key(g)}`).toBe(true);
      }
      expect(changed.length).toBeLessThanOrEqual('size' in bump ? 3 : 2);
    });
  }

  it('a rebuilt leaf (new hash, same name and size) keeps its exact place, for every leaf', () => {
    for (const cap of [30, 100]) {
      const before = planLayers(closure(), { maxLayers: cap });
      for (let i = 0; i < 40; i++) {
        const name = `pkg${i}`;
        const after = planLayers(closure({ name }), { maxLayers: cap });
        const renamed = before.map((g) => g.map((p) => (p === sp(name) ? sp(name, '2') : p)).sort());
        expect(
          after.map((g) => [...g].sort()),
          `${name} at cap ${cap}`,
        ).toEqual(renamed);
      }
    }
  });

  it('refuses an incomplete closure, duplicates and a cap Docker cannot load', () => {
    const paths = closure();
    expect(() => planLayers(paths.slice(1), { maxLayers: 10 })).toThrow(/closure is incomplete/);
    expect(() => planLayers([...paths, paths[0]!], { maxLayers: 10 })).toThrow(/listed twice/);
    expect(() => planLayers(paths, { maxLayers: 125 })).toThrow(ImageBuildError);
    expect(() => planLayers(paths, { maxLayers: 0 })).toThrow(/maxLayers/);
    expect(planLayers([], { maxLayers: 10 })).toEqual([]);
  });

  it('plans a 2,000-path closure quickly', () => {
    const paths: StorePathInfo[] = [];
    for (let i = 0; i < 2000; i++) {
      const refs = [0, 1, 2, i - 1, i - 7, Math.floor(i / 2)]
        .filter((j) => j >= 0 && j < i)
        .map((j) => paths[j]!.path);
      paths.push({ path: sp(`p${i}`), narSize: (i * 7919) % 100000, references: [...new Set(refs)] });
    }
    const plan = planLayers(paths, { maxLayers: 100 });
    expect(plan).toHaveLength(100);
    expect(plan[0]).toEqual([sp('p0')]);
  });
});
