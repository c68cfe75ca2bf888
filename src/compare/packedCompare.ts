/**
 * Two or more packed hashes lists (plain lists with no board and no local copies) compared in
 * their bytes: each row of the first list is looked up by key in the others' indexes (lists in
 * the same order are matched by position), 32 hash bytes are compared, and only rows that are
 * not reproducible become objects. Linear in the rows, with no string per row.
 */
import { comparePaths } from '../hashes/artifactPath.js';
import {
  findKey,
  keyHash,
  keyIndex,
  type PackedHashes,
  packedKey,
  packedSha,
  sameKeys,
  sameSha,
} from '../hashes/packed.js';
import type { ArtifactResult } from './model.js';
import { rowResult } from './verdict.js';

/** Called once per distinct key: the list and row it was found in, and its row in each list (-1: absent). */
type Visit = (list: PackedHashes, row: number, refs: Int32Array) => void;

/**
 * Visits every key of the lists once: the first list's rows in order, then the keys only later
 * lists hold. Returns true when the visits came in row order (every list sorted and aligned).
 */
function walkRows(lists: readonly PackedHashes[], visit: Visit): boolean {
  const first = lists[0] as PackedHashes;
  const refs = new Int32Array(lists.length);
  if (lists.every((l) => l.sorted && (l === first || sameKeys(first, l)))) {
    for (let row = 0; row < first.count; row++) {
      refs.fill(row);
      visit(first, row, refs);
    }
    return true;
  }
  const indexes = lists.map((l, j) => (j === 0 ? undefined : keyIndex(l)));
  const matched = lists.map(() => 0);
  for (let row = 0; row < first.count; row++) {
    const h = keyHash(first, row);
    refs[0] = row;
    for (let j = 1; j < lists.length; j++) {
      const at = findKey(lists[j] as PackedHashes, indexes[j] as Int32Array, h, first, row);
      refs[j] = at;
      if (at >= 0) matched[j] = (matched[j] as number) + 1;
    }
    visit(first, row, refs);
  }
  // Keys the first list lacks: each visited from the first later list that holds it.
  for (let j = 1; j < lists.length; j++) {
    const list = lists[j] as PackedHashes;
    if (matched[j] === list.count) continue;
    indexes[0] ??= keyIndex(first);
    for (let row = 0; row < list.count; row++) {
      const h = keyHash(list, row);
      let seen = false;
      for (let k = 0; k < j && !seen; k++)
        seen = findKey(lists[k] as PackedHashes, indexes[k] as Int32Array, h, list, row) >= 0;
      if (seen) continue;
      for (let k = 0; k < lists.length; k++)
        refs[k] =
          k < j
            ? -1
            : k === j
              ? row
              : findKey(lists[k] as PackedHashes, indexes[k] as Int32Array, h, list, row);
      visit(list, row, refs);
    }
  }
  return false;
}

/** The row a visit stands for, as an object. */
function rowOf(
  lists: readonly PackedHashes[],
  labels: readonly string[],
  list: PackedHashes,
  row: number,
  refs: Int32Array,
) {
  const shas = lists.map((l, j) => ((refs[j] as number) < 0 ? null : packedSha(l, refs[j] as number)));
  return rowResult(labels, shas, packedKey(list, row), undefined);
}

const byKey = (a: ArtifactResult, b: ArtifactResult) => comparePaths(a.key, b.key);

export interface PackedComparison {
  count: number;
  /** The rows that are not reproducible, in row order. */
  problems: ArtifactResult[];
  /** Lists that share at least one key with a list of another input. */
  related: boolean[];
}

/** How many rows, which are not reproducible, and which lists share a key with another input's list. */
export function comparePackedLists(
  lists: readonly PackedHashes[],
  labels: readonly string[],
  inputs: ReadonlyArray<string | undefined>,
): PackedComparison {
  const first = lists[0] as PackedHashes;
  const problems: ArtifactResult[] = [];
  const related = lists.map(() => false);
  let unrelated = lists.length;
  let count = 0;
  const ordered = walkRows(lists, (list, row, refs) => {
    count++;
    if (unrelated > 0) unrelated -= markRelated(refs, inputs, related);
    let same = (refs[0] as number) >= 0;
    for (let j = 1; j < lists.length && same; j++)
      same =
        (refs[j] as number) >= 0 &&
        sameSha(first, refs[0] as number, lists[j] as PackedHashes, refs[j] as number);
    if (!same) problems.push(rowOf(lists, labels, list, row, refs));
  });
  if (!ordered) problems.sort(byKey);
  return { count, problems, related };
}

/** Marks the lists of a row held by two or more inputs; returns how many were newly marked. */
function markRelated(
  refs: Int32Array,
  inputs: ReadonlyArray<string | undefined>,
  related: boolean[],
): number {
  let holder: string | undefined;
  let shared = false;
  for (let j = 0; j < refs.length && !shared; j++) {
    const input = inputs[j];
    if (input === undefined || (refs[j] as number) < 0) continue;
    if (holder === undefined) holder = input;
    else shared = holder !== input;
  }
  if (!shared) return 0;
  let marked = 0;
  for (let j = 0; j < refs.length; j++)
    if ((refs[j] as number) >= 0 && inputs[j] !== undefined && !related[j]) {
      related[j] = true;
      marked++;
    }
  return marked;
}

/** Every row of the lists, reproducible ones included, in row order (for `--json` and reports). */
export function packedArtifacts(lists: readonly PackedHashes[], labels: readonly string[]): ArtifactResult[] {
  const rows: ArtifactResult[] = [];
  const ordered = walkRows(lists, (list, row, refs) => rows.push(rowOf(lists, labels, list, row, refs)));
  return ordered ? rows : rows.sort(byKey);
}
