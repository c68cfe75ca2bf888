/** JUnit XML: one test case per board × artifact (a mismatch fails with both hashes), one per failed run. */

import type { BuildReportJson, ComparisonJson } from '../contracts/json.js';
import { printableLines } from '../util/printable.js';
import { writeOutputFile } from './outputFile.js';
import { describeNote, variationNotes } from './variationNotes.js';
import { artifactVerdicts, culpritText, failedRuns, hashLines } from './verdicts.js';

/** XML escaping of printable text: control characters are not even legal in XML 1.0. */
const esc = (s: string) =>
  printableLines(s).replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );

export function junitXml(comparison: ComparisonJson | null, build?: BuildReportJson): string {
  const verdicts = artifactVerdicts(comparison);
  const failures = build ? failedRuns(build) : [];
  const boards = [...new Set([...verdicts.map((v) => v.board), ...failures.map((f) => f.board)])].sort();
  const suites = boards.map((board) => {
    const cases = [
      ...verdicts
        .filter((v) => v.board === board)
        .map((v) => {
          const name = `${v.artifact}`;
          if (v.ok) return `    <testcase classname="${esc(board || 'reprorom')}" name="${esc(name)}"/>`;
          const culprit = culpritText(build, v);
          if (v.expected !== undefined)
            return `    <testcase classname="${esc(board || 'reprorom')}" name="${esc(name)}">\n      <skipped message="${esc(`expected mismatch: ${v.expected}${culprit ? `; ${culprit}` : ''}`)}"/>\n    </testcase>`;
          const message = `${v.verdict}: ${v.disagreeing.length ? `${v.disagreeing.join(', ')} disagree` : 'not verified'}${culprit ? `; ${culprit}` : ''}`;
          return `    <testcase classname="${esc(board || 'reprorom')}" name="${esc(name)}">\n      <failure type="${esc(v.verdict)}" message="${esc(message)}">${esc(hashLines(v).join('\n'))}</failure>\n    </testcase>`;
        }),
      ...failures
        .filter((f) => f.board === board)
        .map(
          (f) =>
            `    <testcase classname="${esc(board)}" name="build run ${f.index}">\n      <failure type="build-failed" message="${esc(f.error)}">${esc([...f.logTail, `log: ${f.log}`].join('\n'))}</failure>\n    </testcase>`,
        ),
    ];
    const boots = (build?.boards ?? [])
      .filter((b) => b.board === board)
      .flatMap((b) => b.runs.filter((r) => r.boot).map((r) => ({ index: r.index, boot: r.boot! })));
    for (const { index, boot } of boots) {
      cases.push(
        boot.ok
          ? `    <testcase classname="${esc(board)}" name="boot run ${index}"/>`
          : `    <testcase classname="${esc(board)}" name="boot run ${index}">\n      <failure type="boot-failed" message="${esc(boot.message)}">log: ${esc(boot.log)}</failure>\n    </testcase>`,
      );
    }
    const failed = cases.filter((c) => c.includes('<failure')).length;
    // Variations off or not applied: suite properties, so no report hides them.
    const notes = variationNotes(build).filter((n) => n.board === board);
    const props = notes.length
      ? `    <properties>\n${notes.map((n) => `      <property name="variation ${esc(n.name)}" value="${esc(describeNote(n))}"/>`).join('\n')}\n    </properties>\n`
      : '';
    return `  <testsuite name="${esc(board || 'reprorom')}" tests="${cases.length}" failures="${failed}">\n${props}${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="reprorom">\n${suites.join('\n')}\n</testsuites>\n`;
}

export async function writeJunit(
  file: string,
  comparison: ComparisonJson | null,
  build?: BuildReportJson,
): Promise<void> {
  // A folder or an unwritable place as --junit is a clear error (exit 2 or 3), never a crash.
  await writeOutputFile(file, '--junit', junitXml(comparison, build));
}
