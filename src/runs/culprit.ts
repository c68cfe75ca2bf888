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
import { type BuildResult, type ExecuteOptions, executePlan } from './execute.js';
import { batchedSearches, searchGroups, searchSingles, singlesAreCheaper } from './groupSearch.js';
import { describeInput } from './inputs.js';

/** A varied name of one board, with the run its value comes from. */
interface Suspect {
  board: string;
  name: VariationName;
  run: PlannedRun;
}

/**
 * The folder inside a build's run folder that holds its culprit search's reruns. Not a board
 * name (those start with a letter or digit), so nothing that lists a run folder's boards (merge,
 * compare, the Action's newest run folder) takes the reruns for runs of the build.
 */
export const CULPRIT_SEARCH_DIR = '_culprit-search';

export type CulpritVerdict =
  /** One or more single variations reproduce the difference: they are named. */
  | 'variation'
  /** No single variation does, and the reference repeated gives the same bytes. */
  | 'combination'
  /** The reference environment repeated gives different bytes, even with the clock frozen: nothing varied is needed. */
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
  /** The run folders of the extra runs (the reference repeated, with a frozen clock if needed, then single variations). */
  runDirs: string[];
  extraRuns: number;
  artifacts: ArtifactCulprit[];
}

type Hashes = Map<string, string>;

/** The SOURCE_DATE_EPOCH a run was built with (the frozen clock's time). */
async function sourceDateEpochOf(outDir: string | undefined): Promise<number | undefined> {
  if (!outDir) return undefined;
  const m = await readManifest(join(outDir, MANIFEST_FILE)).catch(() => undefined);
  return m?.sourceDateEpoch;
}

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
    referenceDir: string | undefined;
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
      targets.push({ planned, against, reference, referenceDir, artifacts: [...artifacts].sort() });
  }
  if (targets.length === 0) return { runDirs: [], extraRuns: 0, artifacts: byInput };
  // A consumer rebuilt alone takes its producers' reference runs from the first build.
  const producerRun = (board: string) =>
    result.boards.find((b) => b.board === board)?.runs.find((r) => r.index === 1 && r.ok)?.outDir;

  const isolating = targets.map((t) => ({ ...t, ...isolatingRuns(t.planned, t.against, cores) }));
  const runDirs: string[] = [];
  let extraRuns = 0;
  /** Run the given runs of each target as one plan; per board, their hashes in the order given. */
  const first = result;
  const rerun = async (pick: (t: (typeof isolating)[number]) => PlannedRun[]) => {
    const boards = isolating.map((t) => ({ ...t.planned, runs: pick(t) })).filter((b) => b.runs.length > 0);
    const found = new Map<string, Array<Hashes | undefined>>();
    if (boards.length === 0) return found;
    const extra: BuildPlan = {
      ...plan,
      boot: false,
      images: [...new Set(boards.map((b) => b.image))],
      boards,
    };
    const result = await executePlan(extra, {
      ...opts,
      producerRun,
      culpritSearch: { of: first.runId, dir: join(first.runDir, CULPRIT_SEARCH_DIR) },
    });
    runDirs.push(result.runDir);
    for (const b of boards) {
      extraRuns += b.runs.length;
      const outcomes = result.boards.find((o) => o.board === b.name)?.runs ?? [];
      const hashes: Array<Hashes | undefined> = [];
      for (const run of b.runs) {
        const outcome = outcomes.find((o) => o.index === run.index);
        hashes.push(await hashesOf(outcome?.ok ? outcome.outDir : undefined));
      }
      found.set(b.name, hashes);
    }
    return found;
  };

  // First the reference once more: what differs there needs no variation, so the (many)
  // single-variation runs are only spent on artifacts that are stable in the reference.
  const again = await rerun((t) => t.runs.slice(0, 1));
  const artifacts: ArtifactCulprit[] = [...byInput];
  const stable = new Map<string, string[]>();
  const unstable = new Map<string, string[]>();
  const add = (m: Map<string, string[]>, board: string, a: string) =>
    m.set(board, [...(m.get(board) ?? []), a]);
  for (const t of isolating) {
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

  // What differs between two reference runs may be the wall clock: the reference twice more
  // with the clock frozen (at SOURCE_DATE_EPOCH). If those agree, the clock is a culprit, and the
  // single variations are then tried from the frozen reference, so the other causes are named too.
  const frozenAt = new Map<string, number>();
  for (const t of isolating) {
    if (!unstable.has(t.planned.name)) continue;
    const epoch = await sourceDateEpochOf(t.referenceDir);
    if (epoch !== undefined) frozenAt.set(t.planned.name, epoch);
  }
  const frozen = (t: (typeof isolating)[number], run: PlannedRun): PlannedRun => ({
    ...run,
    variation: { ...run.variation, frozenClock: frozenAt.get(t.planned.name) as number },
  });
  const pair = await rerun((t) => {
    const reference = t.runs[0];
    if (!frozenAt.has(t.planned.name) || !reference) return [];
    return [frozen(t, reference), frozen(t, { ...reference, index: 2 })];
  });
  /** Per board: the hashes the group reruns are compared with (the frozen reference's, when frozen). */
  const baseOf = new Map<string, Hashes>();
  const groupRuns = new Map<string, (group: readonly Suspect[]) => PlannedRun>();
  const byClock = new Map<string, Set<string>>();
  for (const t of isolating) {
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
  const open = new Map<string, string[]>();
  for (const t of isolating) {
    const board = t.planned.name;
    const list = [...(stable.get(board) ?? []), ...(byClock.get(board) ?? [])].sort();
    if (list.length > 0) open.set(board, list);
  }

  /** Per board: the names to search among, and the run that changes a group of them. */
  // Per open artifact, in order: what its search found.
  const searched: Array<ArtifactCulprit | undefined> = [];
  const searches: Array<(test: (group: readonly Suspect[]) => Promise<Hashes | undefined>) => Promise<void>> =
    [];
  for (const t of isolating) {
    const board = t.planned.name;
    const list = open.get(board);
    const reference = t.runs[0];
    if (!list || !reference) continue;
    const clock = byClock.get(board);
    // Every open artifact is already blamed on the clock: a run that only moves it adds nothing.
    const skipTime = clock !== undefined && list.every((a) => clock.has(a));
    const names = t.names
      .slice(1)
      .flatMap((name, i) =>
        name === 'reference' || (skipTime && name === 'time')
          ? []
          : [{ board, name, run: t.runs[i + 1] as PlannedRun }],
      );
    const base = clock ? frozen(t, reference) : reference;
    groupRuns.set(board, (group) => ({
      index: 0,
      variation: group.reduce((v, s) => withOnly(v, s.run.variation, s.name), base.variation),
      varied: group.map((s) => s.name),
    }));
    const ref = baseOf.get(board) ?? t.reference;
    // The build's own disagreeing run varied exactly these names: the whole group is known to differ.
    const knownToDiffer = t.against.length === 1 && clock === undefined;
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
        const culprits = clock?.has(artifact)
          ? VARIATION_NAMES.filter((n) => n === 'time' || isolated.includes(n))
          : isolated;
        searched[slot] = {
          board,
          artifact,
          verdict: culprits.length > 0 ? 'variation' : found.failed ? 'unknown' : 'combination',
          culprits,
        };
      });
    }
  }
  await batchedSearches(
    searches,
    async (groups) => {
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
    },
    (group) => `${group[0]?.board ?? ''}:${group.map((s) => s.name).join('+')}`,
  );
  for (const found of searched) if (found) artifacts.push(found);
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
      return `${name} differs even between two runs in the reference environment with the clock frozen: it depends on something no variation controls (randomness, timing, a race)`;
    default:
      return `${name}: the culprit search runs failed, so no cause could be named`;
  }
}
