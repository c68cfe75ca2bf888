/** `reprorom merge RUN… --out DIR`: one run folder from many machines' runs. */
import { relative } from 'node:path';
import { mergeRuns } from '../../merge/merge.js';
import { ExitCode } from '../../util/errors.js';
import { paint, printLine, printOutput } from '../output.js';

export async function runMerge(
  runs: string[],
  opts: { out: string; json?: boolean; culpritRuns?: boolean },
): Promise<number> {
  const result = await mergeRuns(runs, opts.out, { culpritRuns: opts.culpritRuns ?? false });
  if (opts.json) {
    printOutput('merge', {
      schema: 'reprorom.merge/v1',
      ok: true,
      out: result.out,
      runs: result.runs.map((r) => ({ ...r, machine: r.machine ?? null, log: r.log ?? null })),
      notes: result.notes,
    });
    return ExitCode.ok;
  }
  for (const r of result.runs) {
    printLine(
      `${r.board}#${r.index} ← ${r.runId}/${r.board}#${r.originalIndex}${r.machine ? `@${r.machine}` : ''} (${r.input})`,
    );
  }
  for (const n of result.notes) printLine(paint('dim', `note: ${n}`));
  const shown = relative(process.cwd(), result.out) || '.';
  printLine(`merged ${result.runs.length} board runs into ${shown}; next: reprorom compare ${shown}`);
  return ExitCode.ok;
}
