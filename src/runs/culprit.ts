/**
 * After a mismatch, name the culprit: rebuild from the reference run with one variation
 * applied at a time, plus the reference once more, and see which change alone reproduces
 * each differing artifact. At most (number of varied names + 1) extra runs per board,
 * run as one more plan (so they are as hermetic and as parallel as the first ones).
 */
import { join } from 'node:path';
import { MANIFEST_FILE, readManifest } from '../hashes/runManifest.js';
import type { BuildPlan, PlannedBoard, PlannedRun } from '../plan/plan.js';
import { appliedVariations, type VariationName, withOnly } from '../plan/variations.js';
import { type BuildResult, type ExecuteOptions, executePlan } from './execute.js';

export type CulpritVerdict =
  /** One or more single variations reproduce the difference: they are named. */
  | 'variation'
  /** No single variation does, and the reference repeated gives the same bytes. */
  | 'combination'
  /** The reference environment repeated gives different bytes: nothing varied is needed. */
  | 'nondeterministic'
  /** The extra runs failed, so nothing could be concluded. */
  | 'unknown';

export interface ArtifactCulprit {
  board: string;
  /** The artifact's path in the run's manifest, e.g. artifacts/out/bios.bin. */
  artifact: string;
  verdict: CulpritVerdict;
  /** Variation names whose change alone reproduces the difference. */
  culprits: string[];
}

export interface CulpritSearch {
  /** The run folder of the extra runs, when any ran. */
  runDir: string | null;
  extraRuns: number;
  artifacts: ArtifactCulprit[];
}

type Hashes = Map<string, string>;

async function hashesOf(outDir: string | undefined): Promise<Hashes | undefined> {
  if (!outDir) return undefined;
  const m = await readManifest(join(outDir, MANIFEST_FILE)).catch(() => undefined);
  return m ? new Map(m.artifacts.map((a) => [a.path, a.sha256])) : undefined;
}

/** The runs that isolate each variation of `against`, after one repeat of the reference. */
export function isolatingRuns(
  planned: PlannedBoard,
  against: PlannedRun,
  cores: number,
): {
  runs: PlannedRun[];
  names: Array<VariationName | 'reference'>;
} {
  const reference = planned.runs.find((r) => r.index === 1)?.variation;
  if (!reference) return { runs: [], names: [] };
  const names = appliedVariations(against.variation, cores) as VariationName[];
  const variations = [reference, ...names.map((n) => withOnly(reference, against.variation, n))];
  return {
    runs: variations.map((variation, i) => ({
      index: i + 1,
      variation,
      varied: i === 0 ? [] : [names[i - 1] ?? ''],
    })),
    names: ['reference', ...names],
  };
}

function differing(a: Hashes, b: Hashes): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
}

/**
 * For every board of `result` whose runs disagree with its reference run, find which
 * variation explains each differing artifact. `cores` must be what the plan was made with.
 */
export async function searchCulprits(
  plan: BuildPlan,
  result: BuildResult,
  cores: number,
  opts: ExecuteOptions = {},
): Promise<CulpritSearch> {
  const targets: Array<{
    planned: PlannedBoard;
    against: PlannedRun;
    reference: Hashes;
    artifacts: string[];
  }> = [];
  for (const outcome of result.boards) {
    const planned = plan.boards.find((b) => b.name === outcome.board);
    const reference = await hashesOf(outcome.runs.find((r) => r.index === 1 && r.ok)?.outDir);
    if (!planned || !reference) continue;
    for (const run of outcome.runs.filter((r) => r.ok && r.index !== 1)) {
      const hashes = await hashesOf(run.outDir);
      const artifacts = hashes ? differing(reference, hashes) : [];
      const against = planned.runs.find((r) => r.index === run.index);
      // The first disagreeing run is enough: it carries every varied name.
      if (artifacts.length > 0 && against) {
        targets.push({ planned, against, reference, artifacts });
        break;
      }
    }
  }
  if (targets.length === 0) return { runDir: null, extraRuns: 0, artifacts: [] };

  const isolating = targets.map((t) => ({ ...t, ...isolatingRuns(t.planned, t.against, cores) }));
  const extra: BuildPlan = {
    ...plan,
    boot: false,
    images: [...new Set(isolating.map((t) => t.planned.image))],
    boards: isolating.map((t) => ({ ...t.planned, runs: t.runs })),
  };
  const rerun = await executePlan(extra, opts);
  const artifacts: ArtifactCulprit[] = [];
  for (const t of isolating) {
    const runs = rerun.boards.find((b) => b.board === t.planned.name)?.runs ?? [];
    const byName = new Map<string, Hashes | undefined>();
    for (const r of runs) byName.set(t.names[r.index - 1] ?? '', await hashesOf(r.ok ? r.outDir : undefined));
    const again = byName.get('reference');
    for (const artifact of t.artifacts) {
      const ref = t.reference.get(artifact);
      if (!again) {
        artifacts.push({ board: t.planned.name, artifact, verdict: 'unknown', culprits: [] });
        continue;
      }
      if (again.get(artifact) !== ref) {
        artifacts.push({ board: t.planned.name, artifact, verdict: 'nondeterministic', culprits: [] });
        continue;
      }
      const culprits = t.names.slice(1).filter((n) => {
        const h = byName.get(n);
        return h !== undefined && h.get(artifact) !== ref;
      });
      artifacts.push({
        board: t.planned.name,
        artifact,
        verdict: culprits.length > 0 ? 'variation' : 'combination',
        culprits,
      });
    }
  }
  const extraRuns = isolating.reduce((n, t) => n + t.runs.length, 0);
  return { runDir: rerun.runDir, extraRuns, artifacts };
}

/** `bios.bin differs when: hostname` — one line per artifact, for people. */
export function describeCulprit(c: ArtifactCulprit): string {
  const name = `${c.board}: ${c.artifact.replace(/^artifacts\//, '')}`;
  switch (c.verdict) {
    case 'variation':
      return `${name} differs when: ${c.culprits.join(', ')}`;
    case 'combination':
      return `${name} differs only when several variations change together (no single one reproduces it)`;
    case 'nondeterministic':
      return `${name} differs even between two runs in the reference environment: it depends on something no variation controls (the clock, randomness)`;
    default:
      return `${name}: the culprit search runs failed, so no cause could be named`;
  }
}
