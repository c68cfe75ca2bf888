/**
 * N-way comparison: one row per artifact, one column per input, and a verdict.
 * Nothing is ever called reproducible unless at least two inputs hold identical bytes
 * and no input of its group lacks it.
 */
import { comparePaths } from '../hashes/artifactPath.js';
import type { PackedHashes } from '../hashes/packed.js';
import {
  type ArtifactHash,
  type ArtifactResult,
  artifactsOf,
  byKeyOf,
  type Comparison,
  comparedInput,
  type HashSet,
  type MemberResult,
} from './model.js';
import { comparePackedLists, packedArtifacts } from './packedCompare.js';
import { rowResult } from './verdict.js';

export type { ArtifactResult, Comparison, MemberResult, Verdict } from './model.js';
export { verdictFor } from './verdict.js';

/** Every row of a comparison in row order; a packed comparison's reproducible rows are made here. */
export function allArtifacts(c: Comparison): ArtifactResult[] {
  return c.rows.kind === 'made' ? c.rows.artifacts : packedArtifacts(c.rows.lists, c.rows.labels);
}

export function compareSets(sets: readonly HashSet[]): Comparison {
  return comparePacked(sets) ?? compareListed(sets);
}

/**
 * Two or more plain hashes lists with no board and no local copies (two machines' lists of one
 * build, in any order): compared in the lists' bytes. Undefined when the sets are anything else.
 */
function comparePacked(sets: readonly HashSet[]): Comparison | undefined {
  if (sets.length < 2) return undefined;
  const lists: PackedHashes[] = [];
  for (const s of sets) {
    if (s.rows.kind !== 'packed' || s.board !== undefined || !s.complete) return undefined;
    lists.push(s.rows.packed);
  }
  const labels = sets.map((s) => s.label);
  const { count, problems, related } = comparePackedLists(
    lists,
    labels,
    sets.map((s) => s.input),
  );
  const relatedInputs = new Set(
    sets.flatMap((s, j) => (related[j] && s.input !== undefined ? [s.input] : [])),
  );
  return finish(
    sets,
    { count, problems, rows: { kind: 'packed', lists, labels } },
    relatedInputs,
    sets.flatMap((s) => s.notes),
  );
}

/** The verdict, inputs and unrelated-input note every path ends with. */
function finish(
  sets: readonly HashSet[],
  found: Pick<Comparison, 'count' | 'problems' | 'rows'>,
  related: ReadonlySet<string>,
  notes: string[],
): Comparison {
  if (sets.length < 2)
    notes.push(
      'only one run was given: nothing can be called reproducible until a second run or input is compared',
    );
  const inputs = [...new Set(sets.flatMap((s) => (s.input === undefined ? [] : [s.input])))];
  const unrelated = inputs.length > 1 ? inputs.filter((i) => !related.has(i)) : [];
  if (unrelated.length > 0) notes.push(unrelatedNote(sets, unrelated));
  return {
    ok: found.count > 0 && unrelated.length === 0 && found.problems.length === 0,
    inputs: sets.map(comparedInput),
    ...found,
    notes,
    unrelated,
  };
}

interface Group {
  board: string | undefined;
  sets: HashSet[];
}

/**
 * One group when at most one board is named; otherwise one group per board, and the
 * sets that name no board (Heads, bare hashes.txt) join every group.
 */
function groups(sets: readonly HashSet[]): Group[] {
  const boards = [...new Set(sets.map((s) => s.board).filter((b): b is string => b !== undefined))].sort(
    comparePaths,
  );
  if (boards.length <= 1) return [{ board: boards[0], sets: [...sets] }];
  return boards.map((board) => ({
    board,
    sets: sets.filter((s) => s.board === board || s.board === undefined),
  }));
}

/** The sets' artifacts and maps by key, each made once for one comparison. */
class Listings {
  private readonly lists = new Map<HashSet, ArtifactHash[]>();
  private readonly maps = new Map<HashSet, Map<string, ArtifactHash>>();
  artifacts(set: HashSet): ArtifactHash[] {
    let list = this.lists.get(set);
    if (!list) {
      list = artifactsOf(set);
      this.lists.set(set, list);
    }
    return list;
  }
  byKey(set: HashSet): Map<string, ArtifactHash> {
    let map = this.maps.get(set);
    if (!map) {
      map = set.rows.kind === 'listed' ? byKeyOf(set) : new Map(this.artifacts(set).map((a) => [a.key, a]));
      this.maps.set(set, map);
    }
    return map;
  }
}

/** Any sets: rows matched by key (or position, when every list names the same keys in the same order). */
function compareListed(sets: readonly HashSet[]): Comparison {
  const notes = sets.flatMap((s) => s.notes);
  const artifacts: ArtifactResult[] = [];
  const all = groups(sets);
  const listings = new Listings();
  // The row sources of every group a set belongs to: its other artifacts were not compared.
  const rowSourcesOf = new Map<HashSet, HashSet[][]>();
  // Inputs (arguments) that share at least one artifact with another input.
  const related = new Set<string>();
  for (const group of all) {
    // Rows come from the sets that list exactly a board's artifacts; Heads lists also name intermediates.
    const complete = group.sets.filter((s) => s.complete);
    const rowSources = complete.length > 0 ? complete : group.sets;
    for (const s of group.sets) rowSourcesOf.set(s, [...(rowSourcesOf.get(s) ?? []), rowSources]);
    const prefix = all.length > 1 && group.board ? `${group.board}/` : '';
    for (const row of compareGroup(group, rowSources, listings, related)) {
      if (prefix) row.name = `${prefix}${row.key}`;
      artifacts.push(row);
    }
  }
  notes.push(...ignoredNotes(sets, rowSourcesOf, listings));
  const problems = artifacts.filter((a) => a.verdict !== 'reproducible');
  return finish(
    sets,
    { count: artifacts.length, problems, rows: { kind: 'made', artifacts } },
    related,
    notes,
  );
}

/** The rows of one group, in row order; inputs that share a row with another input join `related`. */
function compareGroup(
  group: Group,
  rowSources: readonly HashSet[],
  listings: Listings,
  related: Set<string>,
): ArtifactResult[] {
  const labels = group.sets.map((s) => s.label);
  const inputs = group.sets.map((s) => s.input);
  const lists = group.sets.map((s) => listings.artifacts(s));
  // Every set listing the same keys in the same order (two machines' lists of one build): rows
  // are positions, and no key is looked up in a map of a million.
  const aligned = rowSources.length === group.sets.length ? alignedKeys(lists) : undefined;
  const indexes = aligned ? [] : group.sets.map((s) => listings.byKey(s));
  const keys = aligned ?? rowKeys(rowSources.map((s) => listings.byKey(s)));
  const entry = (i: number, row: number, key: string) => (aligned ? lists[i]?.[row] : indexes[i]?.get(key));
  // Sets holding a file that no longer agrees with its manifest (edited after it was written).
  const edited = lists.some((list) => list.some((a) => a.recorded !== undefined));
  const out: ArtifactResult[] = [];
  for (let row = 0; row < keys.length; row++) {
    const key = keys[row] ?? '';
    const held = lists.map((_, i) => entry(i, row, key));
    const shas = held.map((a) => a?.sha256 ?? null);
    markShared(shas, inputs, related);
    const result = rowResult(labels, shas, key, group.board);
    // Equal bytes on disk are no proof when a file disagrees with its own manifest: the folders
    // were changed after the builds (both replaced alike, say), so the row cannot pass.
    if (edited && result.verdict === 'reproducible') {
      const changed = labels.filter((_, i) => held[i]?.recorded !== undefined);
      if (changed.length > 0) {
        result.verdict = 'mismatch';
        result.disagreeing = changed;
      }
    }
    if (result.verdict !== 'reproducible') {
      const members = memberResults(labels, held);
      if (members) result.members = members;
    }
    out.push(result);
  }
  return out;
}

/** Inputs holding this artifact: when two differ, both were checked against another input. */
function markShared(
  shas: ReadonlyArray<string | null>,
  inputs: ReadonlyArray<string | undefined>,
  related: Set<string>,
): void {
  let holder: string | undefined;
  let shared = false;
  for (let i = 0; i < shas.length && !shared; i++) {
    const input = inputs[i];
    if (input === undefined || shas[i] === null) continue;
    if (holder === undefined) holder = input;
    else shared = holder !== input;
  }
  if (!shared) return;
  for (let i = 0; i < shas.length; i++) {
    const input = inputs[i];
    if (input !== undefined && shas[i] !== null) related.add(input);
  }
}

/** A note for each set that lists files no row source holds: they were not compared. */
function ignoredNotes(
  sets: readonly HashSet[],
  rowSourcesOf: ReadonlyMap<HashSet, HashSet[][]>,
  listings: Listings,
): string[] {
  const notes: string[] = [];
  for (const s of sets) {
    const sources = rowSourcesOf.get(s) ?? [];
    // A set whose every artifact became a row: nothing of its can have been left out.
    if (sources.some((group) => group.includes(s))) continue;
    const ignored = listings
      .artifacts(s)
      .filter((a) => !sources.some((group) => group.some((r) => listings.byKey(r).has(a.key)))).length;
    if (ignored > 0)
      notes.push(
        `${s.label}: ${ignored} listed file(s) that no reprorom input declares were not compared (matching is by file name)`,
      );
  }
  return notes;
}

/**
 * The keys of the first list when every list holds exactly the same keys in the same order, and
 * that order is the rows' (byte-wise rising); else undefined. String comparisons only: no map.
 */
function alignedKeys(lists: ReadonlyArray<readonly ArtifactHash[]>): string[] | undefined {
  const first = lists[0];
  if (first === undefined) return undefined;
  const keys: string[] = new Array(first.length);
  let previous: string | undefined;
  for (let i = 0; i < first.length; i++) {
    const key = first[i]?.key ?? '';
    if (previous !== undefined && comparePaths(previous, key) >= 0) return undefined;
    previous = key;
    keys[i] = key;
  }
  for (let n = 1; n < lists.length; n++) {
    const other = lists[n];
    if (other === undefined || other.length !== first.length) return undefined;
    for (let i = 0; i < first.length; i++) if (other[i]?.key !== keys[i]) return undefined;
  }
  return keys;
}

/**
 * The row keys of a group, each once: the first source's keys, then each later source's keys that
 * no earlier source holds (map lookups, no set of a million keys), sorted byte-wise. A reprorom
 * list is already in path order, which the sort only confirms.
 */
function rowKeys(indexes: ReadonlyArray<Map<string, ArtifactHash>>): string[] {
  const keys: string[] = [];
  indexes.forEach((index, n) => {
    for (const key of index.keys()) {
      let seen = false;
      for (let i = 0; i < n && !seen; i++) seen = indexes[i]?.has(key) ?? false;
      if (!seen) keys.push(key);
    }
  });
  return keys.sort(comparePaths);
}

/**
 * The members of one archive that differ across the inputs listing them (Heads' cpio blocks),
 * in first-listed order; undefined when fewer than two inputs list its members.
 */
function memberResults(
  labels: readonly string[],
  held: ReadonlyArray<ArtifactHash | undefined>,
): MemberResult[] | undefined {
  const lists = held.map((a) => a?.members);
  const listing = labels.filter((_, i) => lists[i] !== undefined);
  if (listing.length < 2) return undefined;
  const byInput = lists.map((list) => (list ? new Map(list.map((m) => [m.path, m.sha256])) : undefined));
  const names = [...new Set(lists.flatMap((list) => (list ? list.map((m) => m.path) : [])))];
  const out: MemberResult[] = [];
  for (const name of names) {
    const hashes: Record<string, string | null> = {};
    const seen = new Set<string | null>();
    labels.forEach((label, i) => {
      const members = byInput[i];
      if (members === undefined) return;
      const sha = members.get(name) ?? null;
      hashes[label] = sha;
      seen.add(sha);
    });
    if (seen.size > 1) out.push({ name, verdict: seen.has(null) ? 'missing' : 'mismatch', hashes });
  }
  return out;
}

/** Why inputs that share nothing are not verified: which inputs, and which boards each holds. */
function unrelatedNote(sets: ReadonlyArray<HashSet>, unrelated: string[]): string {
  return `nothing in common across the inputs: ${unrelated.join(', ')} share${unrelated.length === 1 ? 's' : ''} no board or artifact with the other inputs, so no input was checked against another (${boardsByInput(sets, unrelated)})`;
}

/** `a: seabios; b: seabios-debug`: what each unrelated input holds. */
function boardsByInput(sets: readonly HashSet[], inputs: readonly string[]): string {
  return inputs
    .map((input) => {
      const boards = [...new Set(sets.filter((s) => s.input === input).map((s) => s.board ?? '(no board)'))];
      return `${input}: ${boards.join(', ')}`;
    })
    .join('; ');
}
