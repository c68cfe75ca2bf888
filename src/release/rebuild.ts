/**
 * The rebuild half of `verify`: plan one board from the workspace, rebuild its image and
 * its producers' chain, run it once in the reference environment and compare the result.
 * Both the release-folder and the Heads-list checks call it.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { allArtifacts } from '../compare/compare.js';
import { type CompareOutcome, compareInputs } from '../compare/outcome.js';
import type { Engine } from '../engine/port.js';
import { baseName } from '../hashes/artifactPath.js';
import { MANIFEST_FILE, type ManifestInputRecord, readManifest } from '../hashes/runManifest.js';
import { prepareImage } from '../imagebuild/prepare.js';
import { type BuildPlan, type PlannedBoard, planBuild } from '../plan/plan.js';
import { INPUT_PREFIX, inputDifferences } from '../provenance/inputs.js';
import type { DescribedBuild } from '../provenance/parse.js';
import type { BuildResult } from '../runs/execute.js';
import { runPipeline } from '../runs/pipeline.js';
import { BuildFailedError } from '../util/errors.js';
import type { Workspace } from '../workspace/load.js';
import { type Check, fail, ok } from './check.js';
import { expectedMismatchProblem } from './expected.js';
import type { ArtifactVerdict, VerifyOptions } from './verifyTypes.js';

/** The board as the workspace plans it, or a failed check when the workspace lacks it. */
export type Planning = { ok: true; plan: BuildPlan; planned: PlannedBoard } | { ok: false; check: Check };

export function planOne(ws: Workspace, board: string): Planning {
  const missing = (message: string): Planning => ({ ok: false, check: fail('board', message) });
  if (!ws.boards.has(board))
    return missing(
      `board ${board} is not in workspace ${ws.root} (it has: ${[...ws.boards.keys()].join(', ') || 'none'})`,
    );
  // The board's producers come first in the plan: the rebuild rebuilds the chain.
  const plan = planBuild(ws, { boards: [board], runs: 1, jobs: 1, cores: availableParallelism() });
  const planned = plan.boards.find((p) => p.name === board);
  if (!planned) return missing(`board ${board} could not be planned`);
  // A board declared not reproducible cannot be verified: a rebuild would prove nothing.
  const refused = expectedMismatchProblem(planned, 'verify');
  return refused
    ? missing(`${refused.file}:${refused.line}:${refused.col}: ${refused.message}`)
    : { ok: true, plan, planned };
}

interface RebuildOutcome {
  checks: Check[];
  runDir: string | null;
  manifestPath: string | null;
  /** The rebuilt board's run against `compareWith` (null when it was not rebuilt). */
  comparison: CompareOutcome | null;
}

/** Run folders of the boards rebuilt so far by one `verify`, by board: each board is rebuilt once. */
export type Rebuilt = Map<string, string>;

/**
 * The producers' rebuilt artifacts against the inputs the provenance records: the lines of
 * `inputDifferences` for what differs (empty when every input another board makes matches).
 */
async function producedInputDifferences(
  planned: PlannedBoard,
  d: DescribedBuild,
  rebuilt: Rebuilt,
): Promise<string[]> {
  const records: ManifestInputRecord[] = [];
  for (const input of planned.board.inputs) {
    if (input.type !== 'board') continue;
    const outDir = rebuilt.get(input.board);
    if (!outDir) continue;
    const m = await readManifest(join(outDir, MANIFEST_FILE));
    const a = m.artifacts.find((x) => x.path === `artifacts/${input.artifact}`);
    if (a)
      records.push({
        type: 'board',
        path: input.path,
        sha256: a.sha256,
        size: a.size,
        board: input.board,
        artifact: input.artifact,
        run: m.run.index,
      });
  }
  const recorded = d.inputs
    .filter((i) => i.board !== undefined)
    .map((i) => ({
      name: `${INPUT_PREFIX}${i.path}`,
      digest: { sha256: i.sha256 },
      annotations: { board: i.board ?? '', artifact: i.artifact ?? '' },
    }));
  return inputDifferences(recorded, records);
}

/**
 * Image from the pin (must give the released ID), then one run of the board in the reference
 * environment, after its producers (each rebuilt once per verify, and kept in `rebuilt`). When a
 * rebuilt producer's artifact is not the input the provenance records, that input is named and
 * the board itself is not rebuilt: its ROM could not match.
 */
export async function rebuild(
  plan: BuildPlan,
  planned: PlannedBoard,
  d: DescribedBuild | undefined,
  compareWith: string,
  opts: VerifyOptions & { signal: AbortSignal },
  engine: Engine,
  rebuilt: Rebuilt = new Map(),
): Promise<RebuildOutcome> {
  const checks: Check[] = [];
  const emit = opts.onProgress ?? (() => {});
  const prepare = opts.prepareImage ?? prepareImage;
  const imageName = planned.image.name;
  const step = (text: string) => emit({ type: 'prep', board: planned.name, what: 'image', text });
  step(`image ${imageName}: building from its pin (or answering from the content-keyed cache)`);
  const image = await prepare(planned.image, engine, {
    signal: opts.signal,
    onStep: (s) => step(`image ${imageName}: ${s}`),
  });
  if (d) {
    if (image.id !== d.image.id) {
      checks.push(
        fail(
          'image',
          `image ${imageName} rebuilt from its pin has ID ${image.id}, but the release was built in ${d.image.id}`,
        ),
      );
      return { checks, runDir: null, manifestPath: null, comparison: null };
    }
    checks.push(
      ok(
        'image',
        `image ${imageName} ${image.id} (built from its pin${'cached' in image && image.cached === true ? ', answered from the content-keyed cache' : ''})`,
      ),
    );
  }
  /** The pipeline for `boards`, compared with `compareWith` when it is the board itself. */
  const run = async (boards: PlannedBoard[]): Promise<CompareOutcome | undefined> => {
    const itself = boards.some((b) => b.name === planned.name);
    const { build: result, outcome } = await runPipeline(
      { ...plan, boards, images: [...new Set(boards.map((b) => b.image))] },
      {
        engine,
        // Producers in other images get theirs the usual way (from the cache or built).
        prepareImage: async (img, eng, o) => (img === planned.image ? image : prepare(img, eng, o)),
        producerRun: (board) => rebuilt.get(board),
        signal: opts.signal,
        cores: availableParallelism(),
        onProgress: emit,
        afterFailedRuns: 'stop',
        explain: false,
        compare: itself ? { inputs: (b) => [runOf(b, planned.name), compareWith] } : false,
      },
    );
    for (const b of boards) {
      const outcome = result.boards.find((o) => o.board === b.name);
      const r = outcome?.runs[0];
      if (!r?.ok || !r.outDir) {
        throw new BuildFailedError(
          `rebuilding ${b.name}${b.name === planned.name ? '' : ` (a producer of ${planned.name})`} failed: ${r?.error ?? 'no run'}`,
          `see the log: ${outcome?.log ?? result.runDir}`,
        );
      }
      rebuilt.set(b.name, r.outDir);
    }
    return outcome;
  };
  // The producers first: an input that differs is named before the (long) build it feeds.
  const producers = plan.boards.filter((b) => b.name !== planned.name && !rebuilt.has(b.name));
  if (producers.length > 0) await run(producers);
  if (d) {
    const differs = await producedInputDifferences(planned, d, rebuilt);
    if (differs.length > 0) {
      for (const line of differs)
        checks.push(fail('input', `${line} (so ${planned.name} itself was not rebuilt: it could not match)`));
      return { checks, runDir: null, manifestPath: null, comparison: null };
    }
  }
  const compared = rebuilt.has(planned.name) ? undefined : await run([planned]);
  const outDir = rebuilt.get(planned.name) as string;
  // Rebuilt earlier as another board's producer: its run is compared here, with no second build.
  const comparison = compared ?? (await compareInputs([outDir, compareWith], { signal: opts.signal }));
  return { checks, runDir: outDir, manifestPath: join(outDir, MANIFEST_FILE), comparison };
}

/** The (one) run folder of `board` in a rebuild's result. */
function runOf(build: BuildResult, board: string): string {
  const outDir = build.boards.find((b) => b.board === board)?.runs[0]?.outDir;
  if (!outDir) throw new BuildFailedError(`rebuilding ${board} left no run folder`, `see ${build.runDir}`);
  return outDir;
}

export function verdicts(
  outcome: CompareOutcome,
  releaseLabel: string,
  rebuiltLabel: string,
  only?: string,
): ArtifactVerdict[] {
  return allArtifacts(outcome.comparison)
    .filter((a) => only === undefined || a.key === only || baseName(a.key) === only)
    .map((a) => ({
      name: a.name,
      verdict: a.verdict,
      release: a.hashes[releaseLabel] ?? null,
      rebuilt: a.hashes[rebuiltLabel] ?? null,
    }));
}
