import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseShard, recordedDurations, shardBoards } from '../../ci/shard.js';
import { type CompareOutcome, comparisonJson } from '../../compare/outcome.js';
import type { BuildReportJson, ComparisonJson } from '../../contracts/json.js';
import { type BuildPlan, planBuild, selectBoards } from '../../plan/plan.js';
import {
  chooseVariations,
  describeChoice,
  OPT_IN,
  type VariationChoice,
  type VariationName,
} from '../../plan/variations.js';
import { writeCulprits } from '../../report/culpritsFile.js';
import { applyExpected, expectedLines } from '../../report/expected.js';
import { publishGithub } from '../../report/github.js';
import { writeJunit } from '../../report/junit.js';
import { applyVaried } from '../../report/varied.js';
import { renderVerdictTable, verdictRows, verdictSummary } from '../../report/verdictTable.js';
import { buildReportJson } from '../../runs/buildReportJson.js';
import type { BuildResult } from '../../runs/execute.js';
import { type PipelineResult, runPipeline } from '../../runs/pipeline.js';
import { variedByBoard } from '../../runs/varied.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { withInterrupts } from '../../util/interrupt.js';
import { stateDir } from '../../util/paths.js';
import { printable } from '../../util/printable.js';
import { expectedMismatches } from '../../workspace/expected.js';
import { withProducers } from '../../workspace/inputs.js';
import { loadValidWorkspace, type Workspace } from '../../workspace/load.js';
import { BuildProgress } from '../buildProgress.js';
import { colourAllowed, outcomeError, paint, printLine, printOutput, writeErr } from '../output.js';

export interface BuildCliOptions {
  workspace: string;
  all?: boolean;
  runs: string;
  jobs: string;
  shard?: string;
  /** `--store DIR` (default $REPROROM_STORE): the store of producer runs. */
  store?: string;
  junit?: string;
  boot?: boolean;
  machine?: string;
  /** Lines of a failed run's output shown under the failure. */
  logLines: string;
  /** commander's --no-explain sets this to false. */
  explain?: boolean;
  /** Stream every build output line to stderr. */
  verbose?: boolean;
  /** `--vary` / `--no-vary`, each use a comma-separated list of variation names. */
  vary?: string[];
  noVary?: string[];
  json?: boolean;
}

function positiveInt(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 64)
    throw new UsageError(`${flag} ${value} is not a whole number from ${min} to 64`);
  return n;
}

function positiveIntOrZero(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 10_000)
    throw new UsageError(`${flag} ${value} is not a whole number from 0 to 10000`);
  return n;
}

export async function runBuildCommand(names: string[], opts: BuildCliOptions): Promise<number> {
  const { runs, jobs, shard } = checkBuildOptions(names, opts);
  const ws = await loadValidWorkspace(opts.workspace);
  let boards = selectBoards(ws, names, Boolean(opts.all));
  if (shard)
    boards = shardBoards(boards, shard, await recordedDurations(join(stateDir(ws.root), 'runs'), boards));
  if (boards.length === 0) writeErr(`[build] shard ${opts.shard} has no boards\n`);
  const cores = availableParallelism();
  const plan = planBuild(ws, {
    boards,
    runs,
    jobs,
    cores,
    boot: Boolean(opts.boot),
    ...(opts.machine ? { machine: opts.machine } : {}),
    ...(opts.vary ? { vary: opts.vary } : {}),
    ...(opts.noVary ? { noVary: opts.noVary } : {}),
  });
  const logTailLines = positiveIntOrZero(opts.logLines, '--log-lines');
  const progress = await BuildProgress.start({
    plannedRuns: plan.boards.reduce((n, b) => n + b.runs.length, 0),
    verbose: Boolean(opts.verbose),
  });
  let piped: PipelineResult;
  try {
    // One scope from the first run to the last culprit run: a signal between the build and the
    // search (while comparing) is handled like one during either, never the default death.
    piped = await withInterrupts((signal) =>
      runPipeline(plan, {
        signal,
        cores,
        logTailLines,
        ...storeOption(ws, boards, opts),
        onProgress: progress.onProgress,
        afterFailedRuns: 'compare',
        // A mismatch is explained by default: which variation alone reproduces it.
        explain: opts.explain !== false,
      }),
    );
  } catch (err) {
    progress.stop();
    progress.summary('build stopped');
    throw err;
  }
  const { build: result, outcome, culprits } = piped;
  progress.stop();
  const failed = result.boards.flatMap((b) => b.runs.filter((r) => !r.ok));
  const bootFailed = result.boards.flatMap((b) => b.runs.filter((r) => r.boot && !r.boot.ok));
  const comparison = judgedComparison(ws, plan, result, outcome);
  const exitCode =
    failed.length > 0 || bootFailed.length > 0
      ? ExitCode.buildFailed
      : comparison && !comparison.ok && runs >= 2 && !comparison.okExceptExpected
        ? ExitCode.mismatch
        : ExitCode.ok;
  const report = buildReportJson(result, comparison, shard, culprits ?? null, exitCode === ExitCode.ok);
  // Kept with the runs, so `report --html` shows the culprits later.
  if (report.culprits) await writeCulprits(result.runDir, report.culprits);
  if (opts.junit) await writeJunit(opts.junit, comparison, report);
  await publishGithub(comparison, report);
  if (opts.json) {
    printOutput('build', {
      ...report,
      ...(exitCode === ExitCode.ok ? {} : { error: buildError(exitCode, failed.length, bootFailed.length) }),
    });
  } else {
    printRuns(result, { runs, verbose: Boolean(opts.verbose) });
    printLine();
    if (outcome && comparison) printVerdicts(outcome, comparison, report, runs);
    printLine(`run folder: ${result.runDir}`);
  }
  // The last line: how long it all took, and what came of it.
  progress.summary(
    `build finished${culprits ? ` (${culprits.extraRuns} extra run${culprits.extraRuns === 1 ? '' : 's'} to name the culprit)` : ''}`,
    comparison ? (runs >= 2 ? verdictSummary(comparison) : ONE_RUN_SUMMARY) : undefined,
  );
  return exitCode;
}

/** The options checked before anything is loaded: each mistake is a usage error (exit 2). */
function checkBuildOptions(names: string[], opts: BuildCliOptions) {
  const runs = positiveInt(opts.runs, '--runs', 1);
  const jobs = positiveInt(opts.jobs, '--jobs', 1);
  if (!opts.all && names.length === 0)
    throw new UsageError('name at least one board, or use --all', 'reprorom build BOARD… | --all');
  const shard = opts.shard ? parseShard(opts.shard) : null;
  if (opts.machine !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(opts.machine)) {
    throw new UsageError(
      `--machine "${opts.machine}" is not a simple name`,
      'use letters, digits, ".", "_" or "-"',
    );
  }
  // Unknown variation names are a usage error before anything is loaded.
  chooseVariations({ vary: opts.vary ?? [], noVary: opts.noVary ?? [], cores: availableParallelism() });
  return { runs, jobs, shard };
}

/** The comparison of the build's runs, with varied and expected mismatches marked (null: nothing compared). */
function judgedComparison(
  ws: Workspace,
  plan: BuildPlan,
  result: PipelineResult['build'],
  outcome: PipelineResult['outcome'],
) {
  const comparison = outcome ? comparisonJson(outcome) : null;
  // Boards known not to be reproducible yet: their mismatch between these runs is expected.
  // Every planned board, producers pulled in as inputs too: a board's verdict never depends
  // on whether it was named, pulled in, or which shard it fell in.
  if (comparison) applyVaried(comparison, variedByBoard(result));
  if (comparison)
    applyExpected(
      comparison,
      expectedMismatches(
        ws,
        plan.boards.map((b) => b.name),
      ),
    );
  return comparison;
}

/**
 * The store of producer runs, when one is named: boards pulled in as producers (not asked
 * for) may be restored from it; every board that feeds another is kept in it once built.
 */
function storeOption(ws: Workspace, selected: readonly string[], opts: BuildCliOptions) {
  const dir = opts.store ?? process.env['REPROROM_STORE'];
  if (!dir) return {};
  const asked = new Set(selected);
  const producers = new Set(
    [...ws.boards.values()].flatMap((e) =>
      e.value.inputs.flatMap((i) => (i.type === 'board' ? [i.board] : [])),
    ),
  );
  const restore = new Set(withProducers(ws, selected).filter((n) => !asked.has(n)));
  return { store: { dir: resolve(dir), restore, save: producers } };
}

function buildError(exitCode: number, failed: number, bootFailed: number) {
  if (exitCode === ExitCode.mismatch)
    return outcomeError(
      exitCode,
      'the runs disagree: not reproducible',
      'read comparison.reports (diff reports) and culprits (which variation causes it)',
    );
  const what = [
    failed > 0 ? `${failed} run${failed === 1 ? '' : 's'} failed` : '',
    bootFailed > 0 ? `${bootFailed} boot check${bootFailed === 1 ? '' : 's'} failed` : '',
  ].filter(Boolean);
  return outcomeError(exitCode, what.join(', '), "read each failed run's logTail and its board's log");
}

function printRuns(result: BuildResult, opts: { runs: number; verbose: boolean }): void {
  for (const b of result.boards) {
    // What is off (and why) and what this machine cannot apply, when runs are varied at all.
    // A variation off only because it is opt-in (build-path) is the documented default, the
    // same for every board on every build: said with --verbose, not on every line of output.
    if (opts.runs >= 2)
      for (const line of describeChoice({ ...b.vary, off: newsworthyOff(b.vary.off, opts.verbose) }))
        printLine(paint('dim', `${b.board}: ${line}`));
    for (const r of b.runs) {
      printLine(
        `${b.board} run ${r.index}: ${r.ok ? (r.restored ? `restored from the store (key ${r.restored.key.slice(0, 16)}…)` : 'ok') : `FAILED (${r.error})`}${r.variations.length ? ` — varied ${r.variations.join(', ')}` : ' — reference environment'}${r.boot ? ` — boot ${r.boot.ok ? 'ok' : `FAILED (${r.boot.message})`}` : ''}`,
      );
      const planned = b.vary.notApplied;
      for (const [name, why] of Object.entries(r.notApplied ?? {}))
        if (why && planned[name as keyof typeof planned] === undefined)
          printLine(`  variation ${name} not applied in this run: ${why}`);
      // The cause, where the user looks: the run's last lines, then where the rest is.
      if (r.logTail?.length) {
        for (const line of r.logTail) printLine(paint('dim', `  | ${printable(line)}`));
        printLine(`  log: ${b.log}`);
      }
    }
  }
}

/** The variations turned off, without those off only by being opt-in (unless `verbose`). */
function newsworthyOff(off: VariationChoice['off'], verbose: boolean): VariationChoice['off'] {
  if (verbose) return off;
  return Object.fromEntries(
    Object.entries(off).filter(([name, why]) => OPT_IN[name as VariationName] !== why),
  ) as VariationChoice['off'];
}

/** The last line of a one-run build: nothing was compared, so nothing is called (not) reproducible. */
export const ONE_RUN_SUMMARY =
  '1 run: nothing compared (build with --runs 2 or more to check reproducibility)';

/** One row per artifact (verdict, agreement, short hashes, cause); full hashes are in --json and the HTML report. */
function printVerdicts(
  outcome: CompareOutcome,
  comparison: ComparisonJson,
  report: BuildReportJson,
  runs: number,
): void {
  const colour = colourAllowed(process.stdout);
  const painter = (code: 'red' | 'green' | 'yellow' | 'dim', text: string) =>
    colour ? paint(code, text) : text;
  for (const l of renderVerdictTable(verdictRows(comparison, report), painter)) printLine(l);
  if (outcome.reports.length > 0) printLine();
  for (const r of outcome.reports)
    printLine(printable(`diff ${r.artifact}: ${r.text}${r.html ? `, ${r.html}` : ''}`));
  const notes = [...expectedLines(comparison), ...comparison.notes.map((n) => `note: ${n}`)];
  if (notes.length > 0) printLine();
  for (const n of notes) printLine(painter('dim', printable(n)));
  printLine();
  if (runs < 2) {
    printLine(painter('yellow', ONE_RUN_SUMMARY));
    return;
  }
  const good = comparison.ok || comparison.okExceptExpected === true;
  printLine(painter(good ? 'green' : 'red', verdictSummary(comparison)));
}
