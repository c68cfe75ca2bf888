/** The verdict of one row from its inputs' hashes: the rule every comparison path shares. */
import type { ArtifactResult } from './model.js';

export type RowVerdict = Pick<ArtifactResult, 'verdict' | 'disagreeing' | 'majority'>;

/**
 * Reproducible only when two or more inputs hold the artifact and all agree; a missing copy
 * is `missing`, one holder `single-run`, differing bytes `mismatch` against the majority.
 */
export function verdictFor(hashes: ReadonlyArray<readonly [string, string | null]>): RowVerdict {
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

/** The verdict of one row: the common case (every input present and equal) without building tuples. */
export function rowVerdict(labels: readonly string[], shas: ReadonlyArray<string | null>): RowVerdict {
  const first = shas[0];
  let same = shas.length > 1 && first != null;
  for (let i = 1; i < shas.length && same; i++) same = shas[i] === first;
  if (same && first != null) return { verdict: 'reproducible', disagreeing: [], majority: first };
  return verdictFor(labels.map((label, i) => [label, shas[i] ?? null] as const));
}

/** One row of inputs `labels` holding `shas` (null: lacks it). */
export function rowResult(
  labels: readonly string[],
  shas: ReadonlyArray<string | null>,
  key: string,
  board: string | undefined,
  name = key,
): ArtifactResult {
  const hashes: Record<string, string | null> = {};
  for (let i = 0; i < shas.length; i++) hashes[labels[i] ?? ''] = shas[i] ?? null;
  const { verdict, disagreeing, majority } = rowVerdict(labels, shas);
  return { name, key, board, verdict, hashes, disagreeing, majority };
}
