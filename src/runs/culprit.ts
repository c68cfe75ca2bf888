/**
 * After a mismatch, name the culprit: rebuild the reference run once more, then (for what
 * that repeat reproduces) search the varied names by groups (groupSearch.ts: a rerun changes a
 * group of names, the group that differs is halved) and name, for each differing artifact, the
 * names whose change alone reproduces it. When the repeated reference already differs, the
 * reference runs twice more with the clock frozen (libfaketime, at SOURCE_DATE_EPOCH): if those
 * agree, the wall clock (`time`) is a culprit and the groups are tried from the frozen
 * reference; if not, the build is nondeterministic. Each round of reruns is one plan of its own
 * (as hermetic and parallel as the first runs); all boards and artifacts share its reruns.
 */
import { join } from 'node:path';
import { MANIFEST_FILE, readManifest } from '../hashes/runManifest.js';
import type { BuildPlan, PlannedBoard, PlannedRun } from '../plan/plan.js';
import { appliedVariations, VARIATION_NAMES, type VariationName, withOnly } from '../plan/variations.js';
import {
  type ArtifactCulprit,
  CULPRIT_SEARCH_DIR,
  type CulpritSearch,
  type Hashes,
  type Rerun,
  type Suspect,
  type Target,
} from './culpritTypes.js';
import { type BuildResult, type ExecuteOptions, executePlan } from './execute.js';
import { type ClockFindings, frozenRun, tryFrozenClock } from './frozenClock.js';
import { batchedSearches, searchGroups, searchSingles, singlesAreCheaper } from './groupSearch.js';
import { describeInput } from './inputs.js';

export {
  type ArtifactCulprit,
  CULPRIT_SEARCH_DIR,
  type CulpritSearch,
  type CulpritVerdict,
} from './culpritTypes.js';

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
  const { found, byInput } = await disagreeingBoards(plan, result);
  if (found.length === 0) return { runDirs: [], extraRuns: 0, artifacts: byInput };
  const targets = found.map((t) => ({ ...t, ...isolatingRuns(t.planned, t.against, cores) }));
  const runDirs: string[] = [];
  let extraRuns = 0;
  const rerun: Rerun = async (pick) => {
    const done = await rerunAsOnePlan(plan, result, opts, targets, pick);
    if (done) {
      runDirs.push(done.runDir);
      extraRuns += done.runs;
    }
    return done?.hashes ?? new Map();
  };

  // First the reference once more: what differs there needs no variation, so the (many)
  // single-variation runs are only spent on artifacts that are stable in the reference.
  const again = await rerun((t) => t.runs.slice(0, 1));
  const artifacts: ArtifactCulprit[] = [...byInput];
  const { stable, unstable } = splitByRepeat(targets, again, artifacts);
  const clock = await tryFrozenClock(targets, unstable, rerun, artifacts);
  const open = new Map<string, string[]>();
  for (const t of targets) {
    const board = t.planned.name;
    const list = [...(stable.get(board) ?? []), ...(clock.byClock.get(board) ?? [])].sort();
    if (list.length > 0) open.set(board, list);
  }
  artifacts.push(...(await searchOpenArtifacts(targets, open, clock, rerun)));
  return { runDirs, extraRuns, artifacts };
}

/** The boards whose runs disagree with their reference; those explained by a differing input are named at once. */
async function disagreeingBoards(
  plan: BuildPlan,
  result: BuildResult,
): Promise<{ found: Array<Omit<Target, 'runs' | 'names'>>; byInput: ArtifactCulprit[] }> {
  const found: Array<Omit<Target, 'runs' | 'names'>> = [];
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
      found.push({ planned, against, reference, referenceDir, artifacts: [...artifacts].sort() });
  }
  return { found, byInput };
}

/** One round of reruns as a plan of its own (as hermetic and parallel as the first runs). */
async function rerunAsOnePlan(
  plan: BuildPlan,
  first: BuildResult,
  opts: ExecuteOptions,
  targets: readonly Target[],
  pick: (t: Target) => PlannedRun[],
): Promise<{ runDir: string; runs: number; hashes: Map<string, Array<Hashes | undefined>> } | undefined> {
  const boards = targets.map((t) => ({ ...t.planned, runs: pick(t) })).filter((b) => b.runs.length > 0);
  if (boards.length === 0) return undefined;
  const extra: BuildPlan = { ...plan, boot: false, images: [...new Set(boards.map((b) => b.image))], boards };
  // A consumer rebuilt alone takes its producers' reference runs from the first build.
  const producerRun = (board: string) =>
    first.boards.find((b) => b.board === board)?.runs.find((r) => r.index === 1 && r.ok)?.outDir;
  const result = await executePlan(extra, {
    ...opts,
    producerRun,
    culpritSearch: { of: first.runId, dir: join(first.runDir, CULPRIT_SEARCH_DIR) },
  });
  const hashes = new Map<string, Array<Hashes | undefined>>();
  let runs = 0;
  for (const b of boards) {
    runs += b.runs.length;
    const outcomes = result.boards.find((o) => o.board === b.name)?.runs ?? [];
    const list: Array<Hashes | undefined> = [];
    for (const run of b.runs) {
      const outcome = outcomes.find((o) => o.index === run.index);
      list.push(await hashesOf(outcome?.ok ? outcome.outDir : undefined));
    }
    hashes.set(b.name, list);
  }
  return { runDir: result.runDir, runs, hashes };
}

/** Per board, the differing artifacts the repeated reference reproduces (stable) or not (unstable). */
function splitByRepeat(
  targets: readonly Target[],
  again: Map<string, Array<Hashes | undefined>>,
  artifacts: ArtifactCulprit[],
): { stable: Map<string, string[]>; unstable: Map<string, string[]> } {
  const stable = new Map<string, string[]>();
  const unstable = new Map<string, string[]>();
  const add = (m: Map<string, string[]>, board: string, a: string) =>
    m.set(board, [...(m.get(board) ?? []), a]);
  for (const t of targets) {
    const repeated = again.get(t.planned.name)?.[0];
    for (const artifact of t.artifacts) {
      if (!repeated) artifacts.push({ board: t.planned.name, artifact, verdict: 'unknown', culprits: [] });
      else
        add(
          repeated.get(artifact) !== t.reference.get(artifact) ? unstable : stable,
          t.planned.name,
          artifact,
        );
    }
  }
  return { stable, unstable };
}

/**
 * Search the varied names of each open artifact (by groups, or one rerun per name when many
 * artifacts share the names); all searches share their rounds of reruns.
 */
async function searchOpenArtifacts(
  targets: readonly Target[],
  open: Map<string, string[]>,
  clock: ClockFindings,
  rerun: Rerun,
): Promise<ArtifactCulprit[]> {
  // Per open artifact, in order: what its search found.
  const searched: Array<ArtifactCulprit | undefined> = [];
  const searches: Array<(test: (group: readonly Suspect[]) => Promise<Hashes | undefined>) => Promise<void>> =
    [];
  /** Per board: the run that changes a group of its names. */
  const groupRuns = new Map<string, (group: readonly Suspect[]) => PlannedRun>();
  for (const t of targets) {
    const board = t.planned.name;
    const list = open.get(board);
    const reference = t.runs[0];
    if (!list || !reference) continue;
    const byClock = clock.byClock.get(board);
    const names = suspectsOf(t, byClock !== undefined && list.every((a) => byClock.has(a)));
    const epoch = clock.frozenAt.get(board);
    const base = byClock && epoch !== undefined ? frozenRun(reference, epoch) : reference;
    groupRuns.set(board, (group) => ({
      index: 0,
      variation: group.reduce((v, s) => withOnly(v, s.run.variation, s.name), base.variation),
      varied: group.map((s) => s.name),
    }));
    const ref = clock.baseOf.get(board) ?? t.reference;
    // The build's own disagreeing run varied exactly these names: the whole group is known to differ.
    const knownToDiffer = t.against.length === 1 && byClock === undefined;
    // Many differing artifacts: one rerun per name serves them all, cheaper than a search each.
    const singles = singlesAreCheaper(list.length, names.length);
    for (const artifact of list) {
      const slot = searched.length;
      searched.push(undefined);
      searches.push(async (test) => {
        const differs = async (group: readonly Suspect[]) => {
          const hashes = await test(group);
          return hashes === undefined ? undefined : hashes.get(artifact) !== ref.get(artifact);
        };
        const found = singles
          ? await searchSingles(names, differs)
          : await searchGroups(names, knownToDiffer, differs);
        const isolated = found.culprits.map((s) => s.name);
        const culprits = byClock?.has(artifact)
          ? VARIATION_NAMES.filter((n) => n === 'time' || isolated.includes(n))
          : isolated;
        const verdict = culprits.length > 0 ? 'variation' : found.failed ? 'unknown' : 'combination';
        searched[slot] = { board, artifact, verdict, culprits };
      });
    }
  }
  await batchedSearches(searches, (groups) => rerunGroups(groups, groupRuns, rerun), groupKey);
  return searched.filter((found): found is ArtifactCulprit => found !== undefined);
}

/** The names a board's search tries; `time` is left out when the clock already explains every open artifact. */
function suspectsOf(t: Target, skipTime: boolean): Suspect[] {
  const board = t.planned.name;
  return t.names
    .slice(1)
    .flatMap((name, i) =>
      name === 'reference' || (skipTime && name === 'time')
        ? []
        : [{ board, name, run: t.runs[i + 1] as PlannedRun }],
    );
}

/** One round of group reruns: every board's groups in one plan, hashes back in the groups' order. */
async function rerunGroups(
  groups: ReadonlyArray<readonly Suspect[]>,
  groupRuns: Map<string, (group: readonly Suspect[]) => PlannedRun>,
  rerun: Rerun,
): Promise<Array<Hashes | undefined>> {
  const byBoard = new Map<string, Array<readonly Suspect[]>>();
  for (const g of groups) {
    const board = g[0]?.board ?? '';
    byBoard.set(board, [...(byBoard.get(board) ?? []), g]);
  }
  const found = await rerun((t) =>
    (byBoard.get(t.planned.name) ?? []).map((g, i) => ({
      ...(groupRuns.get(t.planned.name) as (g: readonly Suspect[]) => PlannedRun)(g),
      index: i + 1,
    })),
  );
  return groups.map((g) => {
    const board = g[0]?.board ?? '';
    return found.get(board)?.[(byBoard.get(board) ?? []).indexOf(g)];
  });
}

function groupKey(group: readonly Suspect[]): string {
  return `${group[0]?.board ?? ''}:${group.map((s) => s.name).join('+')}`;
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
      return `${name} differs even between two runs in the reference environment with the clock frozen: it depends on something no variation controls (randomness, timing, a race)`;
    default:
      return `${name}: the culprit search runs failed, so no cause could be named`;
  }
}
