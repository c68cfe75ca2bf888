/**
 * Known-unreproducible boards: a board may declare `expectMismatch: REASON`. Between run
 * folders (what `build`, and `compare --allow-expected` on merged run folders, compare), its
 * mismatch is excused and shown as expected; its becoming reproducible is news. A comparison
 * against published hashes (a hashes.txt, a Heads file) never excuses anything.
 */
import type { ComparisonJson } from '../contracts/json.js';

/** Board name → the reason it is known not to be reproducible. */
export type ExpectedMismatches = ReadonlyMap<string, string>;

export interface NewlyReproducible {
  board: string;
  reason: string;
}

/**
 * Marks the excused mismatches (`expectedMismatch` on the artifact), lists the declared boards
 * that now reproduce, and sets `okExceptExpected`. Returns the same object, for chaining.
 */
export function applyExpected(c: ComparisonJson, expected: ExpectedMismatches): ComparisonJson {
  const formatOf = new Map(c.inputs.map((i) => [i.label, i.format]));
  // Only run folders of this workspace's boards: a published hash is never excused.
  const onlyRunFolders = (labels: string[]) => labels.every((l) => formatOf.get(l) === 'manifest');
  const seen = new Map<string, { mismatch: boolean; reproducible: boolean }>();
  for (const a of c.artifacts) {
    const reason = a.board ? expected.get(a.board) : undefined;
    if (!a.board || reason === undefined) continue;
    const s = seen.get(a.board) ?? { mismatch: false, reproducible: false };
    if (a.verdict === 'mismatch') {
      s.mismatch = true;
      if (onlyRunFolders(Object.keys(a.hashes))) a.expectedMismatch = reason;
    } else if (a.verdict === 'reproducible') s.reproducible = true;
    seen.set(a.board, s);
  }
  c.newlyReproducible = [...seen]
    .filter(([, s]) => s.reproducible && !s.mismatch)
    .map(([board]) => ({ board, reason: expected.get(board) ?? '' }));
  c.okExceptExpected =
    c.unrelated.length === 0 &&
    c.artifacts.length > 0 &&
    c.artifacts.every((a) => a.verdict === 'reproducible' || a.expectedMismatch !== undefined);
  return c;
}

/** The lines a person reads about expected mismatches and news. */
export function expectedLines(c: ComparisonJson): string[] {
  const lines: string[] = [];
  const excused = new Map<string, string>();
  for (const a of c.artifacts) if (a.board && a.expectedMismatch) excused.set(a.board, a.expectedMismatch);
  for (const [board, reason] of excused)
    lines.push(`expected mismatch: ${board} is declared not reproducible yet (${reason})`);
  for (const n of c.newlyReproducible ?? [])
    lines.push(
      `news: ${n.board} is now reproducible, though declared expected to mismatch (${n.reason}); remove expectMismatch from its board file`,
    );
  return lines;
}
