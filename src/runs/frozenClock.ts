/**
 * The culprit search's clock phase: when the reference repeated already differs, the
 * reference runs twice more with the clock frozen at SOURCE_DATE_EPOCH (libfaketime); if
 * those agree, the wall clock is a culprit of what they agree on.
 */
import { join } from 'node:path';
import { MANIFEST_FILE, readManifest } from '../hashes/runManifest.js';
import type { PlannedRun } from '../plan/plan.js';
import type { ArtifactCulprit, Hashes, Rerun, Target } from './culpritTypes.js';

/** The SOURCE_DATE_EPOCH a run was built with (the frozen clock's time). */
async function sourceDateEpochOf(outDir: string | undefined): Promise<number | undefined> {
  if (!outDir) return undefined;
  const m = await readManifest(join(outDir, MANIFEST_FILE)).catch(() => undefined);
  return m?.sourceDateEpoch;
}

/** What the frozen-clock pair found, per board. */
export interface ClockFindings {
  /** The epoch the clock was frozen at, for boards with unstable artifacts. */
  frozenAt: Map<string, number>;
  /** The hashes the group reruns are compared with (the frozen reference's, when frozen). */
  baseOf: Map<string, Hashes>;
  /** Artifacts the frozen pair agrees on: the wall clock is one of their culprits. */
  byClock: Map<string, Set<string>>;
}

/**
 * What differs between two reference runs may be the wall clock: the reference twice more
 * with the clock frozen (at SOURCE_DATE_EPOCH). If those agree, the clock is a culprit, and the
 * single variations are then tried from the frozen reference, so the other causes are named too.
 */
export async function tryFrozenClock(
  targets: readonly Target[],
  unstable: Map<string, string[]>,
  rerun: Rerun,
  artifacts: ArtifactCulprit[],
): Promise<ClockFindings> {
  const frozenAt = new Map<string, number>();
  for (const t of targets) {
    if (!unstable.has(t.planned.name)) continue;
    const epoch = await sourceDateEpochOf(t.referenceDir);
    if (epoch !== undefined) frozenAt.set(t.planned.name, epoch);
  }
  const pair = await rerun((t) => {
    const reference = t.runs[0];
    const epoch = frozenAt.get(t.planned.name);
    if (epoch === undefined || !reference) return [];
    return [frozenRun(reference, epoch), frozenRun({ ...reference, index: 2 }, epoch)];
  });
  const baseOf = new Map<string, Hashes>();
  const byClock = new Map<string, Set<string>>();
  for (const t of targets) {
    const board = t.planned.name;
    baseOf.set(board, t.reference);
    const [a, b] = pair.get(board) ?? [];
    for (const artifact of unstable.get(board) ?? []) {
      if (a && b && a.get(artifact) === b.get(artifact)) {
        baseOf.set(board, a);
        byClock.set(board, new Set([...(byClock.get(board) ?? []), artifact]));
      } else {
        const verdict = frozenAt.has(board) && (!a || !b) ? 'unknown' : 'nondeterministic';
        artifacts.push({ board, artifact, verdict, culprits: [] });
      }
    }
  }
  return { frozenAt, baseOf, byClock };
}

export function frozenRun(run: PlannedRun, epoch: number): PlannedRun {
  return { ...run, variation: { ...run.variation, frozenClock: epoch } };
}
