/** `reprorom doctor [--json]`: is this machine able to build? Exit 3 when a required piece is missing. */

import { defaultProbes } from '../../doctor/probes.js';
import {
  type CheckResult,
  type DoctorReport,
  doctorExitCode,
  markOf,
  runProbes,
} from '../../doctor/report.js';
import { stateDir } from '../../util/paths.js';
import { outcomeError, paint, printLine, printOutput } from '../output.js';

export async function runDoctor(opts: { workspace: string; json?: boolean }): Promise<number> {
  const report = await runProbes(defaultProbes(stateDir(opts.workspace)));
  const exitCode = doctorExitCode(report);
  if (opts.json) {
    const failed = report.checks.filter((c) => !c.ok && c.required);
    printOutput('doctor', {
      schema: 'reprorom.doctor/v1',
      ...report,
      ...(report.ok
        ? {}
        : {
            error: outcomeError(
              exitCode,
              `not ready: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
              failed.find((c) => c.fix)?.fix,
            ),
          }),
    });
  } else for (const line of renderDoctor(report)) printLine(line);
  return exitCode;
}

export function renderDoctor(report: DoctorReport): string[] {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of report.checks) {
    lines.push(`${colourMark(c)} ${c.name.padEnd(width)}  ${c.detail}`);
    if (!c.ok && c.fix) lines.push(`  ${' '.repeat(width)}  → ${c.fix}`);
  }
  const failed = report.checks.filter((c) => !c.ok && c.required).length;
  const warned = report.checks.filter((c) => !c.ok && !c.required).length;
  lines.push(
    failed > 0
      ? paint('red', `not ready: ${failed} required check${failed === 1 ? '' : 's'} failed`)
      : `ready${warned > 0 ? paint('yellow', ` (${warned} warning${warned === 1 ? '' : 's'})`) : ''}`,
  );
  return lines;
}

function colourMark(c: CheckResult): string {
  const mark = markOf(c);
  return paint(mark === '✓' ? 'green' : mark === '✗' ? 'red' : 'yellow', mark);
}
