/**
 * N-way comparison: one row per artifact, one column per input, and a verdict.
 * Nothing is ever called reproducible unless at least two inputs hold identical bytes
 * and no input of its group lacks it.
 */
import { comparePaths } from '../hashes/artifactPath.js';
import { type PackedHashes, packedKey, packedSha, sameKeys, sameSha } from '../hashes/packed.js';
import type { ArtifactHash, HashSet } from './inputs.js';

export type Verdict = 'reproducible' | 'mismatch' | 'missing' | 'single-run';

export interface ArtifactResult {
  /** The artifact's file name, prefixed with its board when several boards are compared. */
  name: string;
  /** The key inputs are matched on (the file name, or its path when names collide). */
  key: string;
  board: string | undefined;
  verdict: Verdict;
  /** Each input of the artifact's group: its sha256, or null when it lacks the artifact. */
  hashes: Record<string, string | null>;
  /** Inputs that differ from the majority (mismatch) or lack the artifact (missing). */
  disagreeing: string[];
  /** The hash most inputs agree on; ties go to the earliest input. */
  majority: string | undefined;
  /**
   * For a cpio archive whose inputs list its members (Heads' `-----` blocks) and that is not
   * reproducible: the members that differ, each with every input's hash (null when absent).
   */
  members?: MemberResult[];
}

export interface MemberResult {
  /** The member's path inside the archive, as listed (`./init`). */
  name: string;
  verdict: 'mismatch' | 'missing';
  hashes: Record<string, string | null>;
}

export interface Comparison {
  ok: boolean;
  inputs: Array<{
    label: string;
    source: string;
    format: HashSet['format'];
    board: string | undefined;
    /** `RUN/BOARD#N@MACHINE` when the input is a board run. */
    run: string | undefined;
  }>;
  artifacts: ArtifactResult[];
  notes: string[];
  /**
   * Inputs (arguments) that share no compared artifact with any other input: their runs were
   * only compared among themselves, so the inputs were not compared with each other at all.
   */
  unrelated: string[];
}

const byKeyCache = new WeakMap<HashSet, Map<string, ArtifactHash>>();

/** A set's artifacts by key: matching is a map lookup, never a scan (a million lines must stay linear). */
export function artifactsByKey(set: HashSet): Map<string, ArtifactHash> {
  let map = byKeyCache.get(set);
  if (!map) {
    map = new Map(set.artifacts.map((a) => [a.key, a]));
    byKeyCache.set(set, map);
  }
  return map;
}

/** Hand over a map by key already built while loading (it must hold exactly the set's artifacts by key). */
export function rememberArtifactsByKey(set: HashSet, map: Map<string, ArtifactHash>): void {
  byKeyCache.set(set, map);
}

const packedCache = new WeakMap<HashSet, PackedHashes>();

/** Remember that a set's artifacts are the rows of a packed list (its artifacts are made only when read). */
export function rememberPacked(set: HashSet, packed: PackedHashes): void {
  packedCache.set(set, packed);
}

/** The packed list a set was loaded from, if any (then it has no local files). */
export function packedOf(set: HashSet): PackedHashes | undefined {
  return packedCache.get(set);
}

/** For a comparison of packed lists: how many rows, and the rows that are not reproducible. */
const rowSummary = new WeakMap<Comparison, { count: number; problems: ArtifactResult[] }>();

/** How many artifacts the comparison has, without making the reproducible rows. */
export function artifactCount(c: Comparison): number {
  return rowSummary.get(c)?.count ?? c.artifacts.length;
}

/** The rows that are not reproducible, in row order, without making the others. */
export function notReproducible(c: Comparison): ArtifactResult[] {
  return rowSummary.get(c)?.problems ?? c.artifacts.filter((a) => a.verdict !== 'reproducible');
}

/**
 * A property made on first read (then kept, and settable as a plain one): a million rows are
 * built only for the outputs that list every one.
 */
export function lazyProperty<T extends object, K extends keyof T>(target: T, key: K, make: () => T[K]): void {
  Object.defineProperty(target, key, {
    configurable: true,
    enumerable: true,
    get: () => {
      const value = make();
      Object.defineProperty(target, key, { configurable: true, enumerable: true, writable: true, value });
      return value;
    },
    set: (value: T[K]) => {
      Object.defineProperty(target, key, { configurable: true, enumerable: true, writable: true, value });
    },
  });
}

/**
 * Two or more plain hashes lists naming the same files in the same rows (two machines' lists of
 * one build), with no board: rows compared in the lists' bytes, and only the rows that differ
 * made into objects. Undefined when the sets are anything else (the general path handles them).
 */
function comparePacked(sets: readonly HashSet[]): Comparison | undefined {
  if (sets.length < 2) return undefined;
  const packed: PackedHashes[] = [];
  for (const s of sets) {
    const p = packedCache.get(s);
    if (p === undefined || s.board !== undefined || !s.complete) return undefined;
    packed.push(p);
  }
  const first = packed[0] as PackedHashes;
  for (let n = 1; n < packed.length; n++) if (!sameKeys(first, packed[n] as PackedHashes)) return undefined;
  const labels = sets.map((s) => s.label);
  const count = first.count;
  const problems: ArtifactResult[] = [];
  const problemRows: number[] = [];
  const rowOf = (row: number, shas: ReadonlyArray<string>): ArtifactResult => {
    const key = packedKey(first, row);
    const hashes: Record<string, string | null> = {};
    for (let i = 0; i < shas.length; i++) hashes[labels[i] ?? ''] = shas[i] ?? null;
    const { verdict, disagreeing, majority } = rowVerdict(labels, shas);
    return { name: key, key, board: undefined, verdict, hashes, disagreeing, majority };
  };
  for (let row = 0; row < count; row++) {
    let same = true;
    for (let n = 1; n < packed.length && same; n++) same = sameSha(first, packed[n] as PackedHashes, row);
    if (same) continue;
    problems.push(
      rowOf(
        row,
        packed.map((p) => packedSha(p, row)),
      ),
    );
    problemRows.push(row);
  }
  // Every set holds every row: the inputs were checked against each other when two differ.
  const inputs = [...new Set(sets.flatMap((s) => (s.input === undefined ? [] : [s.input])))];
  const unrelated = inputs.length > 1 && count === 0 ? inputs : [];
  const notes = sets.flatMap((s) => s.notes);
  if (unrelated.length > 0) notes.push(unrelatedNote(sets, unrelated));
  const comparison = {
    ok: count > 0 && unrelated.length === 0 && problems.length === 0,
    inputs: sets.map(comparedInput),
    notes,
    unrelated,
  } as Comparison;
  lazyProperty(comparison, 'artifacts', () => {
    const rows = new Array<ArtifactResult>(count);
    let next = 0;
    for (let row = 0; row < count; row++) {
      if (problemRows[next] === row) {
        rows[row] = problems[next] as ArtifactResult;
        next++;
        continue;
      }
      const key = packedKey(first, row);
      const sha = packedSha(first, row);
      const hashes: Record<string, string | null> = {};
      for (const label of labels) hashes[label] = sha;
      rows[row] = {
        name: key,
        key,
        board: undefined,
        verdict: 'reproducible',
        hashes,
        disagreeing: [],
        majority: sha,
      };
    }
    return rows;
  });
  rowSummary.set(comparison, { count, problems });
  return comparison;
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

export function verdictFor(
  hashes: ReadonlyArray<readonly [string, string | null]>,
): Pick<ArtifactResult, 'verdict' | 'disagreeing' | 'majority'> {
  // The common case, without allocating: every input present and equal.
  const first = hashes[0]?.[1];
  if (hashes.length > 1 && first != null && hashes.every((h) => h[1] === first))
    return { verdict: 'reproducible', disagreeing: [], majority: first };
  const present = hashes.filter((h): h is readonly [string, string] => h[1] !== null);
  const absent = hashes.filter((h) => h[1] === null).map(([label]) => label);
  const counts = new Map<string, number>();
  for (const [, sha] of present) counts.set(sha, (counts.get(sha) ?? 0) + 1);
  // Map keeps first-seen order, so on a tie the earliest input's hash wins.
  let majority: string | undefined;
  let best = 0;
  for (const [sha, n] of counts) {
    if (n > best) {
      best = n;
      majority = sha;
    }
  }
  if (counts.size > 1)
    return {
      verdict: 'mismatch',
      disagreeing: present.filter(([, sha]) => sha !== majority).map(([l]) => l),
      majority,
    };
  if (present.length < 2) return { verdict: 'single-run', disagreeing: absent, majority };
  if (absent.length > 0) return { verdict: 'missing', disagreeing: absent, majority };
  return { verdict: 'reproducible', disagreeing: [], majority };
}

export function compareSets(sets: readonly HashSet[]): Comparison {
  const packed = comparePacked(sets);
  if (packed) return packed;
  const notes = sets.flatMap((s) => s.notes);
  const artifacts: ArtifactResult[] = [];
  const all = groups(sets);
  // The row sources of every group a set belongs to: its other artifacts were not compared.
  const rowSourcesOf = new Map<HashSet, HashSet[][]>();
  // Sets whose every artifact became a row: nothing of theirs can have been left out.
  const rowSourceSets = new Set<HashSet>();
  // Inputs (arguments) that share at least one artifact with another input.
  const related = new Set<string>();
  for (const group of all) {
    // Rows come from the sets that list exactly a board's artifacts; Heads lists also name intermediates.
    const complete = group.sets.filter((s) => s.complete);
    const rowSources = complete.length > 0 ? complete : group.sets;
    for (const s of group.sets) rowSourcesOf.set(s, [...(rowSourcesOf.get(s) ?? []), rowSources]);
    for (const s of rowSources) rowSourceSets.add(s);
    const labels = group.sets.map((s) => s.label);
    const inputs = group.sets.map((s) => s.input);
    // Every set listing the same keys in the same order (two machines' lists of one build): rows
    // are positions, and no key is looked up in a map of a million.
    const aligned = rowSources.length === group.sets.length ? alignedKeys(group.sets) : undefined;
    const indexes = aligned ? [] : group.sets.map(artifactsByKey);
    const keys = aligned ?? rowKeys(rowSources);
    // Sets holding a file that no longer agrees with its manifest (edited after it was written).
    const edited = group.sets.some((s) => s.artifacts.some((a) => a.recorded !== undefined));
    for (let row = 0; row < keys.length; row++) {
      const key = keys[row] ?? '';
      // One sha per set, read once; tuples for verdictFor only when the row is not the common case.
      const shas: Array<string | null> = [];
      if (aligned) for (const set of group.sets) shas.push(set.artifacts[row]?.sha256 ?? null);
      else for (const index of indexes) shas.push(index.get(key)?.sha256 ?? null);
      // Inputs holding this artifact: when two differ, both were checked against another input.
      let holder: string | undefined;
      let shared = false;
      for (let i = 0; i < shas.length; i++) {
        const input = inputs[i];
        if (input === undefined || shas[i] === null) continue;
        if (holder === undefined) holder = input;
        else if (holder !== input) shared = true;
      }
      if (shared)
        for (let i = 0; i < shas.length; i++) {
          const input = inputs[i];
          if (input !== undefined && shas[i] !== null) related.add(input);
        }
      const hashes: Record<string, string | null> = {};
      for (let i = 0; i < shas.length; i++) hashes[labels[i] ?? ''] = shas[i] ?? null;
      let { verdict, disagreeing, majority } = rowVerdict(labels, shas);
      // Equal bytes on disk are no proof when a file disagrees with its own manifest: the folders
      // were changed after the builds (both replaced alike, say), so the row cannot pass.
      if (edited && verdict === 'reproducible') {
        const changed = group.sets.flatMap((set, i) =>
          (aligned ? set.artifacts[row] : indexes[i]?.get(key))?.recorded !== undefined
            ? [labels[i] ?? '']
            : [],
        );
        if (changed.length > 0) {
          verdict = 'mismatch';
          disagreeing = changed;
        }
      }
      const members =
        verdict === 'reproducible'
          ? undefined
          : memberResults(labels, indexes.length > 0 ? indexes : group.sets.map(artifactsByKey), key);
      artifacts.push({
        name: all.length > 1 && group.board ? `${group.board}/${key}` : key,
        key,
        board: group.board,
        verdict,
        hashes,
        disagreeing,
        majority,
        ...(members ? { members } : {}),
      });
    }
  }
  for (const s of sets) {
    if (rowSourceSets.has(s)) continue;
    const sources = rowSourcesOf.get(s) ?? [];
    const ignored = s.artifacts.filter(
      (a) => !sources.some((group) => group.some((r) => artifactsByKey(r).has(a.key))),
    ).length;
    if (ignored > 0)
      notes.push(
        `${s.label}: ${ignored} listed file(s) that no reprorom input declares were not compared (matching is by file name)`,
      );
  }
  if (sets.length < 2)
    notes.push(
      'only one run was given: nothing can be called reproducible until a second run or input is compared',
    );
  const inputs = [...new Set(sets.flatMap((s) => (s.input === undefined ? [] : [s.input])))];
  const unrelated = inputs.length > 1 ? inputs.filter((i) => !related.has(i)) : [];
  if (unrelated.length > 0) notes.push(unrelatedNote(sets, unrelated));
  const ok =
    artifacts.length > 0 && unrelated.length === 0 && artifacts.every((a) => a.verdict === 'reproducible');
  return {
    ok,
    inputs: sets.map(comparedInput),
    artifacts,
    notes,
    unrelated,
  };
}

/**
 * The keys of the first set when every set lists exactly the same keys in the same order, and
 * that order is the rows' (byte-wise rising); else undefined. String comparisons only: no map.
 */
function alignedKeys(sets: readonly HashSet[]): string[] | undefined {
  const first = sets[0]?.artifacts;
  if (first === undefined) return undefined;
  const keys: string[] = new Array(first.length);
  let previous: string | undefined;
  for (let i = 0; i < first.length; i++) {
    const key = first[i]?.key ?? '';
    if (previous !== undefined && comparePaths(previous, key) >= 0) return undefined;
    previous = key;
    keys[i] = key;
  }
  for (let n = 1; n < sets.length; n++) {
    const other = sets[n]?.artifacts;
    if (other === undefined || other.length !== first.length) return undefined;
    for (let i = 0; i < first.length; i++) if (other[i]?.key !== keys[i]) return undefined;
  }
  return keys;
}

/**
 * The row keys of a group, each once, in first-seen order: the first source's keys, then each
 * later source's keys that no earlier source holds (map lookups, no set of a million keys), sorted
 * byte-wise. A reprorom list is already in path order, which the sort only confirms.
 */
function rowKeys(sources: readonly HashSet[]): string[] {
  const indexes = sources.map(artifactsByKey);
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

/** The verdict of one row: the common case (every input present and equal) without building tuples. */
function rowVerdict(
  labels: readonly string[],
  shas: ReadonlyArray<string | null>,
): Pick<ArtifactResult, 'verdict' | 'disagreeing' | 'majority'> {
  const first = shas[0];
  let same = shas.length > 1 && first != null;
  for (let i = 1; i < shas.length && same; i++) same = shas[i] === first;
  if (same && first != null) return { verdict: 'reproducible', disagreeing: [], majority: first };
  return verdictFor(labels.map((label, i) => [label, shas[i] ?? null] as const));
}

/**
 * The members of one archive that differ across the inputs listing them (Heads' cpio blocks),
 * in first-listed order; undefined when fewer than two inputs list its members.
 */
function memberResults(
  labels: readonly string[],
  indexes: ReadonlyArray<Map<string, ArtifactHash>>,
  key: string,
): MemberResult[] | undefined {
  const lists = indexes.map((index) => index.get(key)?.members);
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

/** What a comparison says of each input it read. */
function comparedInput(s: HashSet) {
  return { label: s.label, source: s.source, format: s.format, board: s.board, run: s.run };
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
