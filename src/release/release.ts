/**
 * `release`: build each board with varied runs, refuse anything that failed or is not
 * reproducible, and only then write the release folder. Returns what happened; the CLI renders it.
 */
import { join } from 'node:path';
import { type CompareOutcome, compareInputs } from '../compare/outcome.js';
import type { BuildPlan } from '../plan/plan.js';
import { type BuildResult, type ExecuteOptions, executePlan } from '../runs/execute.js';
import { BuildFailedError, UsageError } from '../util/errors.js';
import type { ReleaseManifest } from './releaseManifest.js';
import { writeRelease } from './write.js';

export interface ReleaseOptions extends ExecuteOptions {
  out: string;
}

export type ReleaseResult =
  | { ok: false; build: BuildResult; comparison: CompareOutcome; notReproducible: string[] }
  | { ok: true; build: BuildResult; comparison: CompareOutcome; manifest: ReleaseManifest };

export async function releaseBoards(plan: BuildPlan, opts: ReleaseOptions): Promise<ReleaseResult> {
  const short = plan.boards.filter((b) => b.runs.length < 2).map((b) => b.name);
  if (short.length > 0)
    throw new UsageError(
      `a release needs at least 2 varied runs per board (${short.join(', ')} has fewer)`,
      'release with --runs 2 or more',
    );
  const build = await executePlan(plan, opts);
  const failed = build.boards.flatMap((b) =>
    b.runs.filter((r) => !r.ok).map((r) => `${b.board} run ${r.index}: ${r.error}`),
  );
  if (failed.length > 0) {
    throw new BuildFailedError(
      `${failed.join('; ')}; nothing was released`,
      `see the logs in ${build.runDir}`,
    );
  }
  const comparison = await compareInputs([build.runDir], { report: join(build.runDir, 'diff') });
  if (!comparison.comparison.ok) {
    const notReproducible = comparison.comparison.artifacts
      .filter((a) => a.verdict !== 'reproducible')
      .map((a) => `${a.name} (${a.verdict})`);
    return { ok: false, build, comparison, notReproducible };
  }
  const written = await writeRelease(
    opts.out,
    build.boards.map((b) => ({ board: b.board, runDirs: b.runs.map((r) => r.outDir ?? '') })),
  );
  return { ok: true, build, comparison, manifest: written.manifest };
}
