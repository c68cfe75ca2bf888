/** `reprorom boot BOARD [RUN]`: boot every run of the board in RUN (default: the latest run that has it). */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { bootRun } from '../../boot/boot.js';
import type { BootJson } from '../../build/report.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { withInterrupts } from '../../util/interrupt.js';
import { stateDir } from '../../util/paths.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import { paint, printJson, printLine } from '../output.js';

export async function runBoot(
  boardName: string,
  run: string | undefined,
  opts: { workspace: string; json?: boolean },
): Promise<number> {
  const ws = await loadValidWorkspace(opts.workspace);
  const board = ws.boards.get(boardName)?.value;
  if (!board)
    throw new UsageError(
      `board "${boardName}" does not exist`,
      `one of: ${[...ws.boards.keys()].join(', ')}`,
    );
  if (!board.boot)
    throw new UsageError(
      `board "${boardName}" declares no boot: check`,
      `add a boot: section to boards/${boardName}.yaml`,
    );
  const runs = join(stateDir(ws.root), 'runs');
  const candidates = run ? [run] : (await readdir(runs).catch(() => [] as string[])).sort().reverse();
  const runId = candidates.find((r) => existsSync(join(runs, r, boardName)));
  if (!runId) {
    throw new UsageError(
      run ? `run ${run} has no build of ${boardName}` : `no run of ${boardName} yet`,
      `build it first: reprorom build ${boardName}`,
    );
  }
  const indices = (await readdir(join(runs, runId, boardName)))
    .filter((n) => /^\d+$/.test(n))
    .sort((a, b) => Number(a) - Number(b));
  const results: Array<BootJson & { run: string; index: number }> = [];
  await withInterrupts(async (signal) => {
    for (const index of indices) {
      const r = await bootRun({ boardName, board, runDir: join(runs, runId, boardName, index), signal });
      results.push({ ...r, run: runId, index: Number(index) });
    }
  });
  const ok = results.length > 0 && results.every((r) => r.ok);
  if (opts.json) printJson({ ok, board: boardName, boots: results });
  else
    for (const r of results)
      printLine(
        `${boardName} ${r.run}#${r.index}: ${paint(r.ok ? 'green' : 'red', r.ok ? 'boot ok' : 'boot FAILED')} — ${r.message}`,
      );
  return ok ? ExitCode.ok : ExitCode.buildFailed;
}
