/**
 * `release`: build each board with varied runs, refuse anything that failed or is not
 * reproducible, and only then write the release folder. Returns what happened; the CLI renders it.
 */
import { join } from 'node:path';
import { type CompareOutcome, compareInputs } from '../compare/outcome.js';
import { readManifest } from '../hashes/runManifest.js';
import type { BuildPlan } from '../plan/plan.js';
import { type BuildResult, type ExecuteOptions, executePlan } from '../runs/execute.js';
import { localSourceState } from '../sources/prepare.js';
import { BuildFailedError, UsageError } from '../util/errors.js';
import type { ReleaseManifest } from './releaseManifest.js';
import { writeRelease } from './write.js';

export interface ReleaseOptions extends ExecuteOptions {
  out: string;
  /** Release a local source that differs from its git commit, or is in no checkout (marked dirty). */
  allowDirty?: boolean;
}

const DIRTY_HINT =
  'commit the changes (or add what the build must not see to source.exclude), or release with --allow-dirty: the provenance then marks the source dirty';

/**
 * A local source must be exactly a git commit, so that a verifier can check it out: refuse
 * one with changes, or in no git checkout, unless the user allows it (then it is marked).
 */
async function checkLocalSources(plan: BuildPlan, opts: ReleaseOptions): Promise<void> {
  if (opts.allowDirty) return;
  const problems: string[] = [];
  for (const b of plan.boards) {
    const source = b.board.source;
    if (source.type !== 'local') continue;
    const state = await localSourceState(plan.root, source, opts.signal);
    if (!state)
      problems.push(
        `${b.name}: its local source ${source.path} is in no git checkout, so the provenance could name no commit to check out`,
      );
    else if (state.dirty)
      problems.push(
        `${b.name}: its local source ${source.path} differs from commit ${state.commit.slice(0, 12)} (${state.changes.join(', ')}${state.changes.length === 10 ? ', …' : ''})`,
      );
  }
  if (problems.length > 0)
    throw new UsageError(`refusing to release a dirty source: ${problems.join('; ')}`, DIRTY_HINT);
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
  await checkLocalSources(plan, opts);
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
    const notReproducible = comparison.comparison.problems
      .filter((a) => a.verdict !== 'reproducible')
      .map((a) => `${a.name} (${a.verdict})`);
    return { ok: false, build, comparison, notReproducible };
  }
  if (!opts.allowDirty) {
    // The tree may have changed while it was built: what the runs recorded decides.
    for (const b of build.boards) {
      const first = b.runs[0]?.outDir;
      const m = first ? await readManifest(join(first, 'manifest.json')) : undefined;
      if (m?.source.type === 'local' && m.source.dirty !== false)
        throw new UsageError(
          `refusing to release a dirty source: ${b.board}: its local source changed while it was built`,
          DIRTY_HINT,
        );
    }
  }
  const written = await writeRelease(
    opts.out,
    build.boards.map((b) => ({ board: b.board, runDirs: b.runs.map((r) => r.outDir ?? '') })),
    opts.signal,
  );
  return { ok: true, build, comparison, manifest: written.manifest };
}
