import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseShard, recordedDurations, shardBoards } from '../../ci/shard.js';
import { compareInputs, comparisonJson } from '../../compare/outcome.js';
import { planBuild, selectBoards } from '../../plan/plan.js';
import { chooseVariations, describeChoice } from '../../plan/variations.js';
import { publishGithub } from '../../report/github.js';
import { writeJunit } from '../../report/junit.js';
import { buildReportJson } from '../../runs/buildReportJson.js';
import { describeCulprit, searchCulprits } from '../../runs/culprit.js';
import { type BuildResult, executePlan } from '../../runs/execute.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { withInterrupts } from '../../util/interrupt.js';
import { stateDir } from '../../util/paths.js';
import { printable } from '../../util/printable.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import { colourAllowed, outcomeError, paint, printLine, printOutput } from '../output.js';
import { printComparison } from './compare.js';

export interface BuildCliOptions {
  workspace: string;
  all?: boolean;
  runs: string;
  jobs: string;
  shard?: string;
  junit?: string;
  boot?: boolean;
  machine?: string;
  /** Lines of a failed run's output shown under the failure. */
  logLines: string;
  /** commander's --no-explain sets this to false. */
  explain?: boolean;
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
  const ws = await loadValidWorkspace(opts.workspace);
  let boards = selectBoards(ws, names, Boolean(opts.all));
  if (shard)
    boards = shardBoards(boards, shard, await recordedDurations(join(stateDir(ws.root), 'runs'), boards));
  // Plain prefixed lines for logs and CI; the build output itself goes to the log file.
  const say = (board: string, text: string) => process.stderr.write(`[${board}] ${text}\n`);
  const live = colourAllowed(process.stderr) && process.env['REPROROM_QUIET'] === undefined;
  if (boards.length === 0) {
    say('build', `shard ${opts.shard} has no boards`);
  }
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
  const hooks = {
    onEvent: say,
    ...(live
      ? { onLine: (b: string, i: number, line: string) => process.stderr.write(`  ${b}#${i} | ${line}\n`) }
      : {}),
  };
  const logTailLines = positiveIntOrZero(opts.logLines, '--log-lines');
  const result: BuildResult = await withInterrupts((signal) =>
    executePlan(plan, { signal, logTailLines, ...hooks }),
  );
  const failed = result.boards.flatMap((b) => b.runs.filter((r) => !r.ok));
  const bootFailed = result.boards.flatMap((b) => b.runs.filter((r) => r.boot && !r.boot.ok));
  const anyOk = result.boards.some((b) => b.runs.some((r) => r.ok));
  const outcome = anyOk
    ? await compareInputs([result.runDir], { report: join(result.runDir, 'diff') })
    : undefined;
  const comparison = outcome ? comparisonJson(outcome) : null;
  // A mismatch is explained by default: which variation alone reproduces it.
  const culprits =
    outcome && !outcome.comparison.ok && runs >= 2 && opts.explain !== false
      ? await withInterrupts((signal) => {
          say('build', 'mismatch: rebuilding with one variation at a time to name the culprit');
          return searchCulprits(plan, result, cores, { signal, ...hooks });
        })
      : undefined;
  const exitCode =
    failed.length > 0 || bootFailed.length > 0
      ? ExitCode.buildFailed
      : outcome && !outcome.comparison.ok && runs >= 2
        ? ExitCode.mismatch
        : ExitCode.ok;
  const report = buildReportJson(result, comparison, shard, culprits ?? null, exitCode === ExitCode.ok);
  if (opts.junit) await writeJunit(opts.junit, comparison, report);
  await publishGithub(comparison, report);
  if (opts.json) {
    printOutput('build', {
      ...report,
      ...(exitCode === ExitCode.ok ? {} : { error: buildError(exitCode, failed.length, bootFailed.length) }),
    });
  } else {
    for (const b of result.boards) {
      // Nothing is off silently: what is off (and why) and what this machine cannot apply.
      for (const line of describeChoice(b.vary)) printLine(paint('dim', `${b.board}: ${line}`));
      for (const r of b.runs) {
        printLine(
          `${b.board} run ${r.index}: ${r.ok ? 'ok' : `FAILED (${r.error})`}${r.variations.length ? ` — varied ${r.variations.join(', ')}` : ' — reference environment'}${r.boot ? ` — boot ${r.boot.ok ? 'ok' : `FAILED (${r.boot.message})`}` : ''}`,
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
    printLine();
    if (outcome) printComparison(outcome);
    if (culprits && culprits.artifacts.length > 0) {
      printLine();
      printLine(
        `culprits (${culprits.extraRuns} extra run${culprits.extraRuns === 1 ? '' : 's'}: the reference repeated, then one variation at a time where needed):`,
      );
      for (const c of culprits.artifacts) printLine(`  ${describeCulprit(c)}`);
    }
    printLine(`run folder: ${result.runDir}`);
  }
  return exitCode;
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
