/**
 * Adaptive group testing for the culprit search: which of the varied names, changed alone,
 * reproduce an artifact's difference. Instead of one rerun per name, a rerun changes a group
 * of names at once; a group that differs is halved, a group that does not is cleared.
 *
 * What it assumes: a group differs when it holds a name that differs alone (no two changes
 * cancel each other out). What it reports: only names whose own rerun (changing that name
 * and nothing else) was seen to differ; a name reached by elimination (its group differed, its
 * sibling half did not) is rerun alone before it is named, so a difference that needs two names
 * together (the halves disagree with their group) names nobody and becomes a `combination`.
 * After a culprit is found, the halves not yet tried are rerun together once: more culprits
 * are searched for there, so c culprits cost about c·log2(V) reruns instead of V.
 */

/** Reruns a group of names; true when the artifact differs, undefined when the rerun failed. */
export type GroupTest<N> = (group: readonly N[]) => Promise<boolean | undefined>;

export interface GroupSearchResult<N> {
  /** Names whose own rerun differs, in the order of `names`. */
  culprits: N[];
  /** A rerun failed: what was found may be incomplete. */
  failed: boolean;
}

/**
 * The culprits among `names` for one artifact. `knownToDiffer`: the build's own runs already
 * show the whole group differs (one disagreeing run that varied exactly these names); otherwise
 * the whole group is rerun first.
 */
export async function searchGroups<N>(
  names: readonly N[],
  knownToDiffer: boolean,
  test: GroupTest<N>,
): Promise<GroupSearchResult<N>> {
  const found = new Set<N>();
  let failed = false;
  let untried: N[] = [];
  // `tested`: a rerun of exactly `group` differed (else the group is known to differ by elimination).
  const search = async (group: readonly N[], tested: boolean): Promise<void> => {
    if (group.length === 1) {
      const alone = tested || (await test(group));
      if (alone === undefined) failed = true;
      else if (alone) found.add(group[0] as N);
      return;
    }
    // Halves, the first the larger: one culprit among 10 is named within 5 reruns.
    const k = Math.ceil(group.length / 2);
    const [first, second] = [group.slice(0, k), group.slice(k)];
    const differs = await test(first);
    if (differs === undefined) {
      failed = true;
      return;
    }
    if (differs) {
      untried.push(...second);
      await search(first, true);
    } else await search(second, false);
  };
  let next: readonly N[] = names;
  let tested = false;
  if (!knownToDiffer) {
    const whole = names.length === 0 ? false : await test(names);
    if (whole === undefined) return { culprits: [], failed: true };
    if (!whole) return { culprits: [], failed: false };
    tested = true;
  }
  while (next.length > 0) {
    await search(next, tested);
    const rest = names.filter((n) => untried.includes(n));
    untried = [];
    if (rest.length === 0 || failed) break;
    const more = await test(rest);
    if (more === undefined) failed = true;
    next = more ? rest : [];
    tested = true;
  }
  return { culprits: names.filter((n) => found.has(n)), failed };
}

/**
 * True when `artifacts` searches by groups would likely cost more than one rerun per name, which
 * serves every artifact at once: each search costs about log2(V) + 1 reruns, so with many
 * differing artifacts (each with its own culprit, say) one rerun per name is cheaper.
 */
export function singlesAreCheaper(artifacts: number, names: number): boolean {
  return artifacts * (Math.ceil(Math.log2(Math.max(2, names))) + 1) >= names;
}

/** One rerun per name, all asked at once (so they run in one round, shared by every artifact). */
export async function searchSingles<N>(
  names: readonly N[],
  test: GroupTest<N>,
): Promise<GroupSearchResult<N>> {
  const results = await Promise.all(names.map((n) => test([n])));
  return {
    culprits: names.filter((_, i) => results[i] === true),
    failed: results.some((r) => r === undefined),
  };
}

/**
 * Runs many searches at once and batches their reruns: each round, every group some search
 * waits for is rerun (once, however many searches asked), all in one plan.
 */
export async function batchedSearches<T, N>(
  searches: ReadonlyArray<(test: (group: readonly N[]) => Promise<T | undefined>) => Promise<void>>,
  runRound: (groups: ReadonlyArray<readonly N[]>) => Promise<Array<T | undefined>>,
  keyOf: (group: readonly N[]) => string,
): Promise<void> {
  const waiting = new Map<string, { group: readonly N[]; resolve: Array<(v: T | undefined) => void> }>();
  const done = new Map<string, T | undefined>();
  const test = (group: readonly N[]) => {
    const key = keyOf(group);
    if (done.has(key)) return Promise.resolve(done.get(key));
    return new Promise<T | undefined>((resolve) => {
      const entry = waiting.get(key) ?? { group, resolve: [] };
      entry.resolve.push(resolve);
      waiting.set(key, entry);
    });
  };
  let active = searches.length;
  const all = Promise.all(searches.map((s) => s(test).finally(() => active--)));
  for (;;) {
    // Let every search run until it waits for a rerun or ends (no I/O happens in between).
    await new Promise((r) => setImmediate(r));
    if (waiting.size === 0) {
      if (active === 0) break;
      continue;
    }
    const round = [...waiting.values()];
    waiting.clear();
    const results = await runRound(round.map((w) => w.group));
    round.forEach((w, i) => {
      done.set(keyOf(w.group), results[i]);
      for (const resolve of w.resolve) resolve(results[i]);
    });
  }
  await all;
}
