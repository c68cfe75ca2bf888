/**
 * After a mismatch, name the culprit: rebuild the reference run once more, then (for what
 * that repeat reproduces) from the reference with one variation applied at a time, and see
 * which change alone reproduces each differing artifact. At most (number of varied names + 1)
 * extra runs per board (so at most VARIATION_NAMES.length + 1), run as plans of their own (as hermetic and parallel as the first ones).
 */
import { join } from 'node:path';
import { MANIFEST_FILE, readManifest } from '../hashes/runManifest.js';
import type { BuildPlan, PlannedBoard, PlannedRun } from '../plan/plan.js';
import { appliedVariations, VARIATION_NAMES, type VariationName, withOnly } from '../plan/variations.js';
import { type BuildResult, type ExecuteOptions, executePlan } from './execute.js';
import { describeInput } from './inputs.js';

export type CulpritVerdict =
  /** One or more single variations reproduce the difference: they are named. */
  | 'variation'
  /** No single variation does, and the reference repeated gives the same bytes. */
  | 'combination'
  /** The reference environment repeated gives different bytes: nothing varied is needed. */
  | 'nondeterministic'
  /** An input (another board's artifact) differed between the runs: that input is named, nothing is rebuilt. */
  | 'input'
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
  /** The run folders of the extra runs (the reference repeated, then single variations). */
  runDirs: string[];
  extraRuns: number;
  artifacts: ArtifactCulprit[];
}

type Hashes = Map<string, string>;

async function hashesOf(outDir: string | undefined): Promise<Hashes | undefined> {
  if (!outDir) return undefined;
  const m = await readManifest(join(outDir, MANIFEST_FILE)).catch(() => undefined);
  return m ? new Map(m.artifacts.map((a) => [a.path, a.sha256])) : undefined;
}

/**
 * The runs that isolate each variation of `against` (every disagreeing run, in order), after
 * one repeat of the reference. A name varied by several runs is isolated once, with the value
 * of the first run that varies it: at most 1 + VARIATION_NAMES.length runs per board.
 */
export function isolatingRuns(
  planned: PlannedBoard,
  against: PlannedRun | readonly PlannedRun[],
  cores: number,
): {
  runs: PlannedRun[];
  names: Array<VariationName | 'reference'>;
} {
  const reference = planned.runs.find((r) => r.index === 1)?.variation;
  if (!reference) return { runs: [], names: [] };
  const seen = new Map<VariationName, PlannedRun>();
  for (const run of Array.isArray(against) ? against : [against as PlannedRun]) {
    for (const n of appliedVariations(run.variation, cores)) if (!seen.has(n)) seen.set(n, run);
  }
  // In the order reports list variations, so the extra runs are the same for the same mismatch.
  const names = VARIATION_NAMES.filter((n) => seen.has(n));
  const variations = [
    reference,
    ...names.map((n) => withOnly(reference, (seen.get(n) as PlannedRun).variation, n)),
  ];
  return {
    runs: variations.map((variation, i) => ({
      index: i + 1,
      variation,
      varied: i === 0 ? [] : [names[i - 1] ?? ''],
    })),
    names: ['reference', ...names],
  };
}

/** The inputs whose bytes differ between two runs of a board, as people name them. */
async function differingInputs(
  referenceDir: string | undefined,
  otherDir: string | undefined,
): Promise<string[]> {
  if (!referenceDir || !otherDir) return [];
  const read = (dir: string) => readManifest(join(dir, MANIFEST_FILE)).catch(() => undefined);
  const [a, b] = await Promise.all([read(referenceDir), read(otherDir)]);
  if (!a || !b) return [];
  const before = new Map(a.inputs.map((i) => [i.path, i.sha256]));
  return b.inputs.filter((i) => before.get(i.path) !== i.sha256).map(describeInput);
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
    against: PlannedRun[];
    reference: Hashes;
    artifacts: string[];
  }> = [];
  const byInput: ArtifactCulprit[] = [];
  for (const outcome of result.boards) {
    const planned = plan.boards.find((b) => b.name === outcome.board);
    const referenceDir = outcome.runs.find((r) => r.index === 1 && r.ok)?.outDir;
    const reference = await hashesOf(referenceDir);
    if (!planned || !reference) continue;
    const against: PlannedRun[] = [];
    const artifacts = new Set<string>();
    let explainedByInput = false;
    // Every disagreeing run: a variation only one of them makes (aslr in run 3) is tested too.
    for (const run of outcome.runs.filter((r) => r.ok && r.index !== 1)) {
      const hashes = await hashesOf(run.outDir);
      const differ = hashes ? differing(reference, hashes) : [];
      const plannedRun = planned.runs.find((r) => r.index === run.index);
      if (differ.length === 0 || !plannedRun) continue;
      // A consumer given different bytes is explained by them: no second, unexplained mismatch.
      const inputs = await differingInputs(referenceDir, run.outDir);
      if (inputs.length > 0) {
        for (const artifact of differ)
          byInput.push({ board: planned.name, artifact, verdict: 'input', culprits: inputs });
        explainedByInput = true;
        break;
      }
      against.push(plannedRun);
      for (const a of differ) artifacts.add(a);
    }
    if (!explainedByInput && against.length > 0)
      targets.push({ planned, against, reference, artifacts: [...artifacts].sort() });
  }
  if (targets.length === 0) return { runDirs: [], extraRuns: 0, artifacts: byInput };
  // A consumer rebuilt alone takes its producers' reference runs from the first build.
  const producerRun = (board: string) =>
    result.boards.find((b) => b.board === board)?.runs.find((r) => r.index === 1 && r.ok)?.outDir;

  const isolating = targets.map((t) => ({ ...t, ...isolatingRuns(t.planned, t.against, cores) }));
  const runDirs: string[] = [];
  let extraRuns = 0;
  /** Run the given runs of each target as one plan; their hashes by variation name. */
  const rerun = async (pick: (t: (typeof isolating)[number]) => PlannedRun[]) => {
    const boards = isolating.map((t) => ({ ...t.planned, runs: pick(t) })).filter((b) => b.runs.length > 0);
    const found = new Map<string, Map<string, Hashes | undefined>>();
    if (boards.length === 0) return found;
    const extra: BuildPlan = {
      ...plan,
      boot: false,
      images: [...new Set(boards.map((b) => b.image))],
      boards,
    };
    const result = await executePlan(extra, { ...opts, producerRun });
    runDirs.push(result.runDir);
    for (const b of boards) {
      extraRuns += b.runs.length;
      const byName = new Map<string, Hashes | undefined>();
      const outcomes = result.boards.find((o) => o.board === b.name)?.runs ?? [];
      for (const run of b.runs) {
        const outcome = outcomes.find((o) => o.index === run.index);
        byName.set(run.varied[0] ?? 'reference', await hashesOf(outcome?.ok ? outcome.outDir : undefined));
      }
      found.set(b.name, byName);
    }
    return found;
  };

  // First the reference once more: what differs there needs no variation, so the (many)
  // single-variation runs are only spent on artifacts that are stable in the reference.
  const again = await rerun((t) => t.runs.slice(0, 1));
  const artifacts: ArtifactCulprit[] = [...byInput];
  const open = new Map<string, string[]>();
  for (const t of isolating) {
    const repeated = again.get(t.planned.name)?.get('reference');
    for (const artifact of t.artifacts) {
      const verdict = !repeated
        ? 'unknown'
        : repeated.get(artifact) !== t.reference.get(artifact)
          ? 'nondeterministic'
          : undefined;
      if (verdict) artifacts.push({ board: t.planned.name, artifact, verdict, culprits: [] });
      else open.set(t.planned.name, [...(open.get(t.planned.name) ?? []), artifact]);
    }
  }
  const single = await rerun((t) => (open.has(t.planned.name) ? t.runs.slice(1) : []));
  for (const t of isolating) {
    const byName = single.get(t.planned.name);
    for (const artifact of open.get(t.planned.name) ?? []) {
      const ref = t.reference.get(artifact);
      const culprits = t.names.slice(1).filter((n) => {
        const h = byName?.get(n);
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
  return { runDirs, extraRuns, artifacts };
}

/** `bios.bin differs when: hostname` — one line per artifact, for people. */
export function describeCulprit(c: ArtifactCulprit): string {
  const name = `${c.board}: ${c.artifact.replace(/^artifacts\//, '')}`;
  switch (c.verdict) {
    case 'variation':
      return `${name} differs when: ${c.culprits.join(', ')}`;
    case 'combination':
      return `${name} differs only when several variations change together (no single one reproduces it)`;
    case 'input':
      return `${name} differs because its ${c.culprits.join(' and ')} differed between the runs (caused by that input, not by this board)`;
    case 'nondeterministic':
      return `${name} differs even between two runs in the reference environment: it depends on something no variation controls (the clock, randomness)`;
    default:
      return `${name}: the culprit search runs failed, so no cause could be named`;
  }
}
