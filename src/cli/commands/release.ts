/** `reprorom release BOARD… --out DIR`: build with varied runs, refuse anything not reproducible, write the release. */
import { join, resolve } from 'node:path';
import { runBuild, selectBoards } from '../../build/runBuild.js';
import { checkOutFree, writeRelease } from '../../release/write.js';
import { BuildFailedError, ExitCode, UsageError } from '../../util/errors.js';
import { withInterrupts } from '../../util/interrupt.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import { printJson, printLine } from '../output.js';
import { compareInputs, comparisonJson, printComparison } from './compare.js';

function wholeNumber(value: string, flag: string, min: number, why: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 64)
    throw new UsageError(`${flag} ${value} is not a whole number from ${min} to 64`, why);
  return n;
}

export async function runRelease(
  boards: string[],
  opts: { workspace: string; out: string; runs: string; jobs: string; json?: boolean },
): Promise<number> {
  const runs = wholeNumber(
    opts.runs,
    '--runs',
    2,
    'a release is only written when at least 2 varied runs agree',
  );
  const jobs = wholeNumber(opts.jobs, '--jobs', 1, 'use --jobs 1 or more');
  if (boards.length === 0)
    throw new UsageError('name at least one board', 'reprorom release BOARD… --out DIR');
  const out = resolve(opts.out);
  await checkOutFree(out);
  const ws = await loadValidWorkspace(opts.workspace);
  const names = [...new Set(selectBoards(ws, boards, false))];
  const say = (board: string, text: string) => process.stderr.write(`[${board}] ${text}\n`);
  const result = await withInterrupts((signal) =>
    runBuild(ws, { boards: names, runs, jobs, signal, onEvent: say }),
  );
  const failed = result.boards.flatMap((b) =>
    b.runs.filter((r) => !r.ok).map((r) => `${b.board} run ${r.index}: ${r.error}`),
  );
  if (failed.length > 0) {
    throw new BuildFailedError(
      `${failed.join('; ')}; nothing was released`,
      `see the logs in ${result.runDir}`,
    );
  }
  const outcome = await compareInputs([result.runDir], { report: join(result.runDir, 'diff') });
  if (!outcome.comparison.ok) {
    const bad = outcome.comparison.artifacts
      .filter((a) => a.verdict !== 'reproducible')
      .map((a) => `${a.name} (${a.verdict})`);
    if (opts.json)
      printJson({
        schema: 'reprorom.release/v1',
        ok: false,
        out: null,
        runDir: result.runDir,
        comparison: comparisonJson(outcome),
      });
    else printComparison(outcome);
    process.stderr.write(`reprorom: not reproducible: ${bad.join(', ')}; nothing was written to ${out}\n`);
    process.stderr.write('  → read the diff report above, fix the board, then release again\n');
    return ExitCode.mismatch;
  }
  const written = await writeRelease(
    out,
    result.boards.map((b) => ({ board: b.board, runDirs: b.runs.map((r) => r.outDir ?? '') })),
  );
  if (opts.json) {
    printJson({
      schema: 'reprorom.release/v1',
      ok: true,
      out,
      runDir: result.runDir,
      manifest: written.manifest,
      comparison: comparisonJson(outcome),
    });
  } else {
    for (const b of written.manifest.boards) {
      for (const a of b.artifacts)
        printLine(`${a.sha256}  ${a.path}  (reproduced in ${b.reproducedRuns} varied runs)`);
    }
    printLine();
    printLine(`release written to ${out}`);
    printLine(`sign it:   reprorom sign ${opts.out} --key ~/.ssh/id_ed25519`);
  }
  return ExitCode.ok;
}
