/**
 * N-way comparison: one row per artifact, one column per input, and a verdict.
 * Nothing is ever called reproducible unless at least two inputs hold identical bytes
 * and no input of its group lacks it.
 */
import { comparePaths } from '../hashes/artifactPath.js';
import type { HashSet } from './inputs.js';

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
}

export interface Comparison {
  ok: boolean;
  inputs: Array<{ label: string; source: string; format: HashSet['format']; board: string | undefined }>;
  artifacts: ArtifactResult[];
  notes: string[];
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
  const notes = sets.flatMap((s) => s.notes);
  const artifacts: ArtifactResult[] = [];
  const all = groups(sets);
  const compared = new Map<HashSet, Set<string>>();
  for (const group of all) {
    // Rows come from the sets that list exactly a board's artifacts; Heads lists also name intermediates.
    const complete = group.sets.filter((s) => s.complete);
    const rowSources = complete.length > 0 ? complete : group.sets;
    const keys = [...new Set(rowSources.flatMap((s) => s.artifacts.map((a) => a.key)))].sort(comparePaths);
    for (const key of keys) {
      const hashes = group.sets.map(
        (s) => [s.label, s.artifacts.find((a) => a.key === key)?.sha256 ?? null] as const,
      );
      for (const s of group.sets) {
        const seen = compared.get(s) ?? new Set<string>();
        seen.add(key);
        compared.set(s, seen);
      }
      artifacts.push({
        name: all.length > 1 && group.board ? `${group.board}/${key}` : key,
        key,
        board: group.board,
        hashes: Object.fromEntries(hashes),
        ...verdictFor(hashes),
      });
    }
  }
  for (const s of sets) {
    const ignored = s.artifacts.filter((a) => !compared.get(s)?.has(a.key)).length;
    if (ignored > 0)
      notes.push(
        `${s.label}: ${ignored} listed file(s) that no reprorom input declares were not compared (matching is by file name)`,
      );
  }
  if (sets.length < 2)
    notes.push(
      'only one run was given: nothing can be called reproducible until a second run or input is compared',
    );
  const ok = artifacts.length > 0 && artifacts.every((a) => a.verdict === 'reproducible');
  return {
    ok,
    inputs: sets.map((s) => ({ label: s.label, source: s.source, format: s.format, board: s.board })),
    artifacts,
    notes,
  };
}
