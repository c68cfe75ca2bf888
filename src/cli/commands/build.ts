import { join } from 'node:path';
import { type BuildResult, runBuild, selectBoards } from '../../build/runBuild.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { withInterrupts } from '../../util/interrupt.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import { colourAllowed, printJson, printLine } from '../output.js';
import { compareInputs, comparisonJson, printComparison } from './compare.js';

export interface BuildCliOptions {
  workspace: string;
  all?: boolean;
  runs: string;
  jobs: string;
  json?: boolean;
}

function positiveInt(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 64) throw new UsageError(`${flag} ${value} is not a whole number from ${min} to 64`);
  return n;
}

export async function runBuildCommand(names: string[], opts: BuildCliOptions): Promise<number> {
  const runs = positiveInt(opts.runs, '--runs', 1);
  const jobs = positiveInt(opts.jobs, '--jobs', 1);
  if (!opts.all && names.length === 0) throw new UsageError('name at least one board, or use --all', 'reprorom build BOARD… | --all');
  const ws = await loadValidWorkspace(opts.workspace);
  const boards = selectBoards(ws, names, Boolean(opts.all));
  // Plain prefixed lines for logs and CI; the build output itself goes to the log file.
  const say = (board: string, text: string) => process.stderr.write(`[${board}] ${text}\n`);
  const live = colourAllowed(process.stderr) && process.env['REPROROM_QUIET'] === undefined;
  const result: BuildResult = await withInterrupts((signal) =>
    runBuild(ws, {
      boards,
      runs,
      jobs,
      signal,
      onEvent: say,
      ...(live ? { onLine: (b: string, i: number, line: string) => process.stderr.write(`  ${b}#${i} | ${line}\n`) } : {}),
    }),
  );
  const failed = result.boards.flatMap((b) => b.runs.filter((r) => !r.ok).map((r) => ({ board: b.board, ...r })));
  const anyOk = result.boards.some((b) => b.runs.some((r) => r.ok));
  const outcome = anyOk ? await compareInputs([result.runDir], { report: join(result.runDir, 'diff') }) : undefined;
  if (opts.json) {
    printJson({
      runId: result.runId,
      runDir: result.runDir,
      boards: result.boards.map((b) => ({
        board: b.board,
        image: b.image,
        sourceHash: b.sourceHash ?? null,
        log: b.log,
        runs: b.runs.map((r) => ({ index: r.index, ok: r.ok, dir: r.outDir ?? null, error: r.error ?? null, variations: r.variations, variation: r.variation })),
      })),
      comparison: outcome ? comparisonJson(outcome) : null,
    });
  } else {
    for (const b of result.boards) {
      for (const r of b.runs) {
        printLine(`${b.board} run ${r.index}: ${r.ok ? 'ok' : `FAILED (${r.error})`}${r.variations.length ? ` — varied ${r.variations.join(', ')}` : ' — reference environment'}`);
      }
    }
    printLine();
    if (outcome) printComparison(outcome);
    printLine(`run folder: ${result.runDir}`);
  }
  if (failed.length > 0) return ExitCode.buildFailed;
  if (outcome && !outcome.comparison.ok && runs >= 2) return ExitCode.mismatch;
  return ExitCode.ok;
}
