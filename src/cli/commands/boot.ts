/**
 * `reprorom boot BOARD [RUN]`: boot every run of the board in RUN (default: the
 * latest run that has it), one after the other, and pass only if every one
 * shows the board's expected text. Each result is also written into that run's manifest.json.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bootRun } from '../../boot/boot.js';
import type { BootRunJson } from '../../contracts/json.js';
import { planBoard, selectBoards } from '../../plan/plan.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { withInterrupts } from '../../util/interrupt.js';
import { stateDir } from '../../util/paths.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import { outcomeError, paint, printLine, printOutput, writeErr } from '../output.js';

/** A run id is a folder name under .reprorom/runs, never a path. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export async function runBoot(
  boardName: string,
  run: string | undefined,
  opts: { workspace: string; json?: boolean },
): Promise<number> {
  const ws = await loadValidWorkspace(opts.workspace);
  const [name = boardName] = selectBoards(ws, [boardName], false);
  const { board } = planBoard(ws, name, 1, 1);
  if (!board.boot)
    throw new UsageError(
      `board "${boardName}" declares no boot: check`,
      `add a boot: section to boards/${boardName}.yaml (machine, arch, artifact, expect)`,
    );
  if (run !== undefined && !RUN_ID.test(run))
    throw new UsageError(
      `"${run}" is not a run id`,
      'give a folder name from .reprorom/runs/, e.g. 20250101-120000-abcdef',
    );
  const runsDir = join(stateDir(ws.root), 'runs');
  const runId = await findRun(runsDir, boardName, run);
  const boardDir = join(runsDir, runId, boardName);
  const indices = (await readdir(boardDir))
    .filter((n) => /^\d+$/.test(n))
    .sort((a, b) => Number(a) - Number(b));
  if (indices.length === 0)
    throw new UsageError(
      `run ${runId} has no finished build of ${boardName}`,
      `build it: reprorom build ${boardName}`,
    );

  const results: BootRunJson[] = [];
  await withInterrupts(async (signal) => {
    for (const index of indices) {
      const r = await bootRun({ boardName, board, runDir: join(boardDir, index), signal });
      results.push({ ...r, run: runId, index: Number(index) });
    }
  });
  const ok = results.every((r) => r.ok);
  if (opts.json)
    printOutput('boot', {
      schema: 'reprorom.boot/v1',
      ok,
      ...(ok
        ? {}
        : {
            error: outcomeError(
              ExitCode.buildFailed,
              results
                .filter((r) => !r.ok)
                .map((r) => `${boardName} ${r.run}#${r.index}: boot failed: ${r.message}`)
                .join('\n'),
              'read the console log of each failed boot (its `log` path)',
            ),
          }),
      board: boardName,
      boots: results,
    });
  else {
    for (const r of results) {
      printLine(
        `${boardName} ${r.run}#${r.index}: ${paint(r.ok ? 'green' : 'red', r.ok ? 'boot ok' : 'boot FAILED')} — ${r.message}`,
      );
      if (!r.ok) writeErr(await consoleTail(r.log));
    }
  }
  return ok ? ExitCode.ok : ExitCode.buildFailed;
}

/** RUN if given (it must hold the board), else the newest run that does; run ids sort by time. */
async function findRun(runsDir: string, boardName: string, run: string | undefined): Promise<string> {
  if (run !== undefined) {
    if (!existsSync(join(runsDir, run)))
      throw new UsageError(`run ${run} does not exist in ${runsDir}`, 'list the runs: ls .reprorom/runs');
    if (!existsSync(join(runsDir, run, boardName)))
      throw new UsageError(
        `run ${run} has no build of ${boardName}`,
        `build it first: reprorom build ${boardName}, or omit RUN to use the latest run that has it`,
      );
    return run;
  }
  const all = (await readdir(runsDir).catch(() => [] as string[])).filter((r) => RUN_ID.test(r));
  const latest = all
    .sort()
    .reverse()
    .find((r) => existsSync(join(runsDir, r, boardName)));
  if (!latest)
    throw new UsageError(
      `no run of ${boardName} yet in ${runsDir}`,
      `build it first: reprorom build ${boardName}`,
    );
  return latest;
}

/** The last lines the machine printed, indented, so a failure shows its evidence without opening the log. */
async function consoleTail(log: string, lines = 10): Promise<string> {
  const text = await readFile(log, 'latin1').catch(() => '');
  const console = text.split('\n--- reprorom boot ---')[0] ?? '';
  const tail = console
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .slice(-lines)
    // A guest can print anything: no terminal escapes reach the user's terminal.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
    .map((l) => l.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?'));
  const body = tail.length ? tail.map((l) => `  | ${l}`).join('\n') : '  (nothing was printed)';
  return `${body}\n  full log: ${log}\n`;
}
