import { ConfigError, ExitCode, formatProblem } from '../../util/errors.js';
import { loadWorkspace } from '../../workspace/load.js';
import { errorJson, printLine, printOutput, writeErr } from '../output.js';

export async function runCheck(opts: { workspace: string; json?: boolean }): Promise<number> {
  const { workspace, problems, files } = await loadWorkspace(opts.workspace);
  const ok = problems.length === 0;
  if (opts.json) {
    printOutput('check', {
      schema: 'reprorom.check/v1',
      ok,
      ...(ok ? {} : { error: errorJson(new ConfigError(problems)) }),
      files,
      pins: [...workspace.pins.keys()],
      images: [...workspace.images.keys()],
      boards: [...workspace.boards.keys()],
      problems,
    });
  } else if (ok) {
    printLine(
      `ok: ${files} files (${workspace.pins.size} pins, ${workspace.images.size} images, ${workspace.boards.size} boards)`,
    );
  } else {
    for (const p of problems) writeErr(`${formatProblem(p)}\n`);
    writeErr(`${problems.length} problem(s) found\n`);
  }
  return ok ? ExitCode.ok : ExitCode.config;
}
