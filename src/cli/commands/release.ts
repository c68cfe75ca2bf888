/** `reprorom release BOARD… --out DIR`: build with varied runs, refuse anything not reproducible, write the release. */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { comparisonJson } from '../../compare/outcome.js';
import { planBuild } from '../../plan/plan.js';
import { chooseVariations, describeChoice } from '../../plan/variations.js';
import { refuseExpectedMismatch } from '../../release/expected.js';
import { type ReleaseResult, releaseBoards } from '../../release/release.js';
import { RELEASE_MANIFEST } from '../../release/releaseManifest.js';
import { checkOutFree } from '../../release/write.js';
import { applyVaried } from '../../report/varied.js';
import { type ProgressEvent, progressText } from '../../runs/progress.js';
import { variedByBoard } from '../../runs/varied.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { withInterrupts } from '../../util/interrupt.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import { outcomeError, printLine, printOutput, writeErr } from '../output.js';
import { printComparison } from './compare.js';

function wholeNumber(value: string, flag: string, min: number, why: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 64)
    throw new UsageError(`${flag} ${value} is not a whole number from ${min} to 64`, why);
  return n;
}

/** How strong the agreement is: what the runs varied, or that they varied nothing. */
function reproducedIn(runs: number, varied: readonly string[] | undefined): string {
  if (varied === undefined) return `reproduced in ${runs} runs`;
  if (varied.length === 0) return `reproduced in ${runs} runs, nothing varied`;
  return `reproduced in ${runs} runs varying ${varied.join(', ')}`;
}

/** `release`'s flags as commander hands them over. */
export interface ReleaseCliOptions {
  workspace: string;
  out: string;
  runs: string;
  jobs: string;
  vary?: string[];
  noVary?: string[];
  allowDirty?: boolean;
  json?: boolean;
}

export async function runRelease(boards: string[], opts: ReleaseCliOptions): Promise<number> {
  const runs = wholeNumber(
    opts.runs,
    '--runs',
    2,
    'a release is only written when at least 2 varied runs agree',
  );
  const jobs = wholeNumber(opts.jobs, '--jobs', 1, 'use --jobs 1 or more');
  if (boards.length === 0)
    throw new UsageError('name at least one board', 'reprorom release BOARD… --out DIR');
  chooseVariations({ vary: opts.vary ?? [], noVary: opts.noVary ?? [], cores: availableParallelism() });
  const out = resolve(opts.out);
  await checkOutFree(out);
  const ws = await loadValidWorkspace(opts.workspace);
  const plan = planBuild(ws, {
    boards,
    runs,
    jobs,
    cores: availableParallelism(),
    ...(opts.vary ? { vary: opts.vary } : {}),
    ...(opts.noVary ? { noVary: opts.noVary } : {}),
  });
  refuseExpectedMismatch(plan.boards, 'release');
  const say = (board: string, text: string) => writeErr(`[${board}] ${text}\n`);
  const onProgress = (e: ProgressEvent) => {
    const line = progressText(e);
    if (line) say(line.board, line.text);
  };
  // Nothing is off silently: a release says which variations its runs did not make, and why.
  for (const b of plan.boards) for (const line of describeChoice(b.vary)) say(b.name, line);
  const result = await withInterrupts(
    (signal) =>
      releaseBoards(plan, {
        out,
        signal,
        cores: availableParallelism(),
        onProgress,
        allowDirty: opts.allowDirty === true,
      }),
    // A signal after the rename: the release is whole and in place, and the message says so.
    { completed: (r) => (r.ok ? `the release was written completely to ${out}` : undefined) },
  );
  return result.ok ? printReleased(result, out, opts) : printNotReleased(result, out, opts);
}

/** The runs disagreed: the comparison (or its JSON), and why nothing was written. */
function printNotReleased(
  result: Extract<ReleaseResult, { ok: false }>,
  out: string,
  opts: ReleaseCliOptions,
): number {
  const { build, comparison } = result;
  const message = `not reproducible: ${result.notReproducible.join(', ')}; nothing was written to ${out}`;
  const hint = 'read the diff report above, fix the board, then release again';
  if (opts.json)
    printOutput('release-result', {
      schema: 'reprorom.release-result/v1',
      ok: false,
      error: outcomeError(ExitCode.mismatch, message, hint),
      out: null,
      manifest: null,
      runDir: build.runDir,
      artifacts: [],
      notReproducible: result.notReproducible,
      comparison: comparisonJson(comparison),
    });
  else printComparison(comparison);
  writeErr(`reprorom: ${message}\n  → ${hint}\n`);
  return ExitCode.mismatch;
}

/** The release is written: each ROM's sha256 (or the JSON), and how to sign it. */
function printReleased(
  result: Extract<ReleaseResult, { ok: true }>,
  out: string,
  opts: ReleaseCliOptions,
): number {
  const { build, comparison } = result;
  if (opts.json) {
    printOutput('release-result', {
      schema: 'reprorom.release-result/v1',
      ok: true,
      out,
      manifest: join(out, RELEASE_MANIFEST),
      runDir: build.runDir,
      artifacts: result.manifest.boards.flatMap((b) =>
        b.artifacts.map((a) => ({ board: b.board, path: a.path, sha256: a.sha256, size: a.size })),
      ),
      notReproducible: [],
      comparison: applyVaried(comparisonJson(comparison), variedByBoard(build)),
    });
  } else {
    for (const b of result.manifest.boards) {
      for (const a of b.artifacts)
        printLine(`${a.sha256}  ${a.path}  (${reproducedIn(b.reproducedRuns, b.varied)})`);
    }
    printLine();
    printLine(`release written to ${out}`);
    printLine(`sign it:   reprorom sign ${opts.out} --key ~/.ssh/id_ed25519`);
  }
  return ExitCode.ok;
}
