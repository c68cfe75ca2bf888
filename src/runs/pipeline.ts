/**
 * The one path every command that builds takes: build → compare → explain (the culprit
 * search, on a mismatch) → verdict. `build`, `release` and `verify` call it and render its
 * result; the abort signal is checked between stages and handed to each, so a Ctrl-C while
 * comparing is handled like one while building.
 */
import { join } from 'node:path';
import { type CompareOutcome, compareInputs } from '../compare/outcome.js';
import type { BuildPlan } from '../plan/plan.js';
import { type CulpritSearch, searchCulprits } from './culprit.js';
import { type BuildResult, type ExecuteOptions, executePlan } from './execute.js';
import type { PipelineStage } from './progress.js';

export interface PipelineOptions extends ExecuteOptions {
  signal: AbortSignal;
  /** The cores the plan was made with (the culprit search plans with them again). */
  cores: number;
  /**
   * What is compared, from the build (default: its run folder, with diff reports in its
   * diff/ folder); `false`: nothing (a producer rebuilt only to feed another board).
   */
  compare?: false | { inputs: (build: BuildResult) => string[]; report?: (build: BuildResult) => string };
  /** Compare the runs that succeeded when others failed (`build`), or stop there (`release`, `verify`). */
  afterFailedRuns?: 'compare' | 'stop';
  /** On a mismatch of 2 or more runs, rebuild one variation at a time to name the culprit. */
  explain?: boolean;
}

/**
 * `build-failed`: a run (or its boot check) failed; `not-compared`: nothing to compare (no run
 * succeeded, or comparing was not asked); `reproducible` / `not-reproducible`: the comparison's
 * own verdict, before any board's declared expected mismatch is taken into account.
 */
export type PipelineVerdict = 'build-failed' | 'not-compared' | 'reproducible' | 'not-reproducible';

export interface PipelineResult {
  build: BuildResult;
  outcome: CompareOutcome | undefined;
  culprits: CulpritSearch | undefined;
  verdict: PipelineVerdict;
  /** The stages that ran, in order. */
  stages: PipelineStage[];
}

const defaultCompare = {
  inputs: (b: BuildResult) => [b.runDir],
  report: (b: BuildResult) => join(b.runDir, 'diff'),
};

export async function runPipeline(plan: BuildPlan, opts: PipelineOptions): Promise<PipelineResult> {
  const { signal } = opts;
  const stages: PipelineStage[] = [];
  const enter = (stage: PipelineStage) => {
    signal.throwIfAborted();
    stages.push(stage);
    opts.onProgress?.({ type: 'stage', stage });
  };
  enter('build');
  const build = await executePlan(plan, opts);
  const runs = build.boards.flatMap((b) => b.runs);
  const failed = runs.some((r) => !r.ok || (r.boot !== undefined && !r.boot.ok));
  const compare = opts.compare === undefined ? defaultCompare : opts.compare;
  let outcome: CompareOutcome | undefined;
  let culprits: CulpritSearch | undefined;
  const stop = failed && opts.afterFailedRuns === 'stop';
  if (compare && !stop && runs.some((r) => r.ok)) {
    enter('compare');
    const report = compare.report?.(build);
    outcome = await compareInputs(compare.inputs(build), { ...(report ? { report } : {}), signal });
    const manyRuns = plan.boards.some((b) => b.runs.length >= 2);
    if (!outcome.comparison.ok && manyRuns && opts.explain === true) {
      enter('explain');
      opts.onProgress?.({
        type: 'note',
        board: 'build',
        text: 'mismatch: rebuilding with one variation at a time to name the culprit',
      });
      culprits = await searchCulprits(plan, build, opts.cores, opts);
    }
  }
  enter('verdict');
  const verdict: PipelineVerdict = failed
    ? 'build-failed'
    : !outcome
      ? 'not-compared'
      : outcome.comparison.ok
        ? 'reproducible'
        : 'not-reproducible';
  return { build, outcome, culprits, verdict, stages };
}
