import { mergeRuns } from '../../merge/merge.js';
import { ExitCode } from '../../util/errors.js';
import { printJson, printLine } from '../output.js';

export async function runMerge(runs: string[], opts: { out: string; json?: boolean }): Promise<number> {
  const merged = await mergeRuns(runs, opts.out);
  if (opts.json) printJson({ out: opts.out, runs: merged });
  else {
    for (const m of merged)
      printLine(`${m.board}#${m.index} ← ${m.from}${m.machine ? ` (${m.machine})` : ''}`);
    printLine(`merged ${merged.length} board runs into ${opts.out}; next: reprorom compare ${opts.out}`);
  }
  return ExitCode.ok;
}
