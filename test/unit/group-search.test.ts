/**
 * The group search alone, with a counting test function standing in for reruns: how many reruns
 * it spends for 1, 2 and 3 culprits among 10 names (every placement), and that a difference
 * needing two names together names nobody.
 */
import { describe, expect, it } from 'vitest';
import { batchedSearches, searchGroups } from '../../src/runs/groupSearch.js';

const NAMES = Array.from({ length: 10 }, (_, i) => `v${i}`);

/** Every way to pick `k` of `xs`. */
function choose<T>(xs: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  return xs.flatMap((x, i) => choose(xs.slice(i + 1), k - 1).map((rest) => [x, ...rest]));
}

async function run(differs: (group: readonly string[]) => boolean, known = true) {
  let reruns = 0;
  const found = await searchGroups(NAMES, known, async (group) => {
    reruns++;
    return differs(group);
  });
  return { ...found, reruns };
}

describe('group search', () => {
  for (const c of [1, 2, 3]) {
    it(`names ${c} culprit(s) among 10 in every placement, in about c·log2(10) reruns`, async () => {
      let worst = 0;
      let total = 0;
      const placements = choose(NAMES, c);
      for (const culprits of placements) {
        const r = await run((group) => group.some((n) => culprits.includes(n)));
        expect(r.culprits).toEqual(culprits);
        expect(r.failed).toBe(false);
        worst = Math.max(worst, r.reruns);
        total += r.reruns;
      }
      // On average about c·(log2 10 + 1.6) (4.9, 9.0, 12.9: one per name would be 10); the worst
      // placement a few more: one culprit 6 (named within 5, the 6th clears the rest), two 11, three 16.
      expect(total / placements.length).toBeLessThanOrEqual(c * (Math.log2(10) + 1.7));
      expect(worst).toBeLessThanOrEqual({ 1: 6, 2: 11, 3: 16 }[c] as number);
    });
  }

  it('one culprit is named within 5 reruns; the 6th, when there is one, only clears the rest', async () => {
    for (const culprit of NAMES) {
      let reruns = 0;
      let namedAt = 0;
      await searchGroups(NAMES, true, async (group) => {
        reruns++;
        const d = group.includes(culprit);
        if (d && group.length === 1) namedAt ||= reruns;
        return d;
      });
      expect(namedAt === 0 ? reruns : namedAt, culprit).toBeLessThanOrEqual(5);
    }
  });

  it('a difference only two names together make names nobody (the halves disagree with their group)', async () => {
    for (const [x, y] of choose(NAMES, 2)) {
      const r = await run((group) => group.includes(x as string) && group.includes(y as string));
      expect(r.culprits, `${x}+${y}`).toEqual([]);
    }
  });

  it('with the whole group not known to differ, it is rerun first; a failed rerun is said', async () => {
    const clean = await run(() => false, false);
    expect(clean).toEqual({ culprits: [], failed: false, reruns: 1 });
    let n = 0;
    const failing = await searchGroups(NAMES, true, async () => (++n === 2 ? undefined : true));
    expect(failing.failed).toBe(true);
  });

  it('batches the reruns of many searches into rounds, each group rerun once', async () => {
    const rounds: string[][] = [];
    const found: string[][] = [];
    await batchedSearches<boolean, string>(
      ['v2', 'v7'].map((culprit, i) => async (test) => {
        found[i] = (
          await searchGroups(NAMES, true, async (group) =>
            (await test(group)) ? group.includes(culprit) : undefined,
          )
        ).culprits;
      }),
      async (groups) => {
        rounds.push(groups.map((g) => g.join('+')));
        return groups.map(() => true);
      },
      (g) => g.join('+'),
    );
    expect(found).toEqual([['v2'], ['v7']]);
    // Both searches start with the same first half: rerun once, in the first round.
    expect(rounds[0]).toHaveLength(1);
    const all = rounds.flat();
    expect(new Set(all).size).toBe(all.length);
  });
});
