/** `reprorom compare A B [C…]`: verdicts for every artifact, and a diff report for each mismatch. */
import { relative } from 'node:path';
import {
  type CompareOptions,
  type CompareOutcome,
  compareInputs,
  comparisonJson,
} from '../../compare/outcome.js';
import { verdictSummary } from '../../compare/summary.js';
import { renderProblems, renderTable } from '../../compare/table.js';
import { applyExpected, type ExpectedMismatches, expectedLines } from '../../report/expected.js';
import { publishGithub } from '../../report/github.js';
import { writeJunit } from '../../report/junit.js';
import { checkOutputFile } from '../../report/outputFile.js';
import { ExitCode } from '../../util/errors.js';
import { printable } from '../../util/printable.js';
import { expectedMismatches } from '../../workspace/expected.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import { colourAllowed, outcomeError, paint, printOutput, writeOut } from '../output.js';

const shown = (p: string) => {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
};

/**
 * The table, problems, diff reports and notes, then the one summary line. `after` are lines
 * printed just before that summary (the excused mismatches); `summary` replaces the plain
 * summary when a caller judges the comparison otherwise (`--allow-expected`).
 */
export function printComparison(
  { comparison, reports }: CompareOutcome,
  verdict?: { after: readonly string[]; summary: string; ok: boolean },
): void {
  // One write at the end: a million rows would be a million writes.
  const lines: string[] = [];
  const printLine = (line = '') => lines.push(line);
  // Asked once, not once per cell of a million rows.
  const colour = colourAllowed(process.stdout);
  for (const l of renderTable(comparison, (code, text) => (colour ? paint(code, text) : text))) printLine(l);
  const problems = renderProblems(comparison);
  if (problems.length > 0) printLine();
  for (const l of problems) printLine(l);
  for (const r of reports) {
    printLine();
    printLine(
      printable(
        `diff ${r.artifact}: ${r.a} vs ${r.b}${r.tool === 'builtin' ? ' (built-in summary)' : ' (diffoscope)'}`,
      ),
    );
    for (const l of r.summary.slice(2, 14)) printLine(printable(`  ${l}`));
    printLine(printable(`  report: ${shown(r.text)}${r.html ? `, ${shown(r.html)}` : ''}`));
    if (r.note) printLine(paint('dim', printable(`  ${r.note}`)));
  }
  if (comparison.notes.length > 0) printLine();
  for (const n of comparison.notes) printLine(paint('dim', printable(`note: ${n}`)));
  for (const l of verdict?.after ?? []) printLine(paint('yellow', printable(l)));
  printLine();
  const ok = verdict ? verdict.ok : comparison.ok;
  printLine(paint(ok ? 'green' : 'red', verdict ? verdict.summary : verdictSummary(comparison)));
  writeOut(`${lines.join('\n')}\n`);
}

export type CompareCliOptions = CompareOptions & {
  junit?: string;
  allowExpected?: boolean;
  workspace?: string;
};

export async function runCompare(inputs: string[], opts: CompareCliOptions): Promise<number> {
  // Refused before any work: a report path that cannot be written must not cost a comparison.
  if (opts.junit) await checkOutputFile(opts.junit, '--junit');
  // Expected mismatches come from the workspace's board files, never from the inputs.
  const expected = opts.allowExpected
    ? expectedMismatches(await loadValidWorkspace(opts.workspace ?? '.'))
    : null;
  const outcome = await compareInputs(inputs, opts);
  if (expected) return runCompareExpected(outcome, expected, opts);
  // Built once and only when some output needs it: a million rows are not copied for nothing.
  let json: ReturnType<typeof comparisonJson> | undefined;
  const asJson = () => {
    json ??= comparisonJson(outcome);
    return json;
  };
  if (opts.junit) await writeJunit(opts.junit, asJson());
  if (process.env['GITHUB_ACTIONS']) await publishGithub(asJson());
  if (opts.json)
    printOutput('compare', {
      schema: 'reprorom.compare/v1',
      ...asJson(),
      ...(outcome.comparison.ok
        ? {}
        : { error: outcomeError(ExitCode.mismatch, verdictSummary(outcome.comparison)) }),
    });
  else printComparison(outcome);
  return outcome.comparison.ok ? ExitCode.ok : ExitCode.mismatch;
}

/** `compare --allow-expected`: the same comparison, with the workspace's declared mismatches excused. */
async function runCompareExpected(
  outcome: CompareOutcome,
  expected: ExpectedMismatches,
  opts: CompareCliOptions,
): Promise<number> {
  const json = applyExpected(comparisonJson(outcome), expected);
  if (opts.junit) await writeJunit(opts.junit, json);
  if (process.env['GITHUB_ACTIONS']) await publishGithub(json);
  if (opts.json)
    // With the declared mismatches excused, `ok` follows the exit code, as in every --json output.
    printOutput('compare', {
      ...json,
      schema: 'reprorom.compare/v1',
      ok: json.okExceptExpected === true,
      ...(json.okExceptExpected ? {} : { error: outcomeError(ExitCode.mismatch, verdictSummary(json)) }),
    });
  // One summary line: the judgement with the declared mismatches excused replaces the plain one.
  else
    printComparison(outcome, {
      after: expectedLines(json),
      summary: verdictSummary(json),
      ok: json.okExceptExpected === true,
    });
  return json.okExceptExpected ? ExitCode.ok : ExitCode.mismatch;
}
