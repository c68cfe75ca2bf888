/**
 * Inside GitHub Actions: `::error` annotations for mismatches and failed builds,
 * and a Markdown table in the job's step summary.
 */
import { appendFile } from 'node:fs/promises';
import type { BuildReportJson, ComparisonJson } from '../contracts/json.js';
import { printableLines } from '../util/printable.js';
import { describeNote, variationNotes } from './variationNotes.js';
import { artifactVerdicts, culpritText, failedRuns } from './verdicts.js';

/**
 * Workflow-command escaping for the message part, of text made printable first: a log
 * tail or a board's reason must not drive the terminal of whoever reads the raw job log.
 */
const escData = (s: string) =>
  printableLines(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
/** The same for a property value (the board and artifact in `title=…`), where `:` and `,` end it. */
const escProperty = (s: string) => escData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

export function githubAnnotations(comparison: ComparisonJson | null, build?: BuildReportJson): string[] {
  const lines: string[] = [];
  for (const v of artifactVerdicts(comparison)) {
    if (v.ok) continue;
    const culprit = culpritText(build, v);
    if (v.expected !== undefined) {
      lines.push(
        `::notice title=reprorom expected mismatch: ${escProperty(`${v.board}/${v.artifact}`)}::${escData(`declared not reproducible yet: ${v.expected}${culprit ? `; ${culprit}` : ''}`)}`,
      );
      continue;
    }
    const hashes = Object.entries(v.hashes)
      .map(([i, h]) => `${i}=${h ?? 'missing'}`)
      .join(' ');
    lines.push(
      `::error title=reprorom ${v.verdict}: ${escProperty(`${v.board ? `${v.board}/` : ''}${v.artifact}`)}::${escData(`${v.verdict}${v.disagreeing.length ? ` (${v.disagreeing.join(', ')} disagree)` : ''}${culprit ? `, ${culprit}` : ''}: ${hashes}`)}`,
    );
  }
  for (const f of build ? failedRuns(build) : []) {
    lines.push(
      `::error title=reprorom build failed: ${escProperty(f.board)}::${escData([`run ${f.index}: ${f.error} (log ${f.log})`, ...f.logTail].join('\n'))}`,
    );
  }
  return lines;
}

export function githubSummary(comparison: ComparisonJson | null, build?: BuildReportJson): string {
  const rows = artifactVerdicts(comparison).map(
    (v) =>
      `| ${v.board || '-'} | ${v.artifact} | ${v.ok ? '✅' : v.expected !== undefined ? '⚠️ expected' : '❌'} ${v.verdict} | ${Object.values(
        v.hashes,
      )
        .map((h) => (h ? `\`${h.slice(0, 12)}\`` : 'missing'))
        .join(' ')} | ${[v.expected, culpritText(build, v)].filter(Boolean).join('; ')} |`,
  );
  const failures = build
    ? failedRuns(build).flatMap((f) => [
        `- ❌ **${f.board}** run ${f.index}: ${f.error}`,
        ...(f.logTail.length
          ? ['', '  ```', ...f.logTail.map((l) => `  ${l.replace(/```/g, "'''")}`), '  ```']
          : []),
      ])
    : [];
  // The summary is Markdown rendered for everyone with access to the run: printable only.
  const text = [
    '## reprorom',
    '',
    '| board | artifact | verdict | hashes | cause |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    ...(failures.length ? ['', '### Failed builds', ...failures] : []),
    ...variationSection(build),
    '',
  ].join('\n');
  return printableLines(text);
}

/** No-op outside GitHub Actions. */
export async function publishGithub(
  comparison: ComparisonJson | null,
  build?: BuildReportJson,
): Promise<void> {
  if (!process.env['GITHUB_ACTIONS']) return;
  for (const line of githubAnnotations(comparison, build)) process.stdout.write(`${line}\n`);
  const summary = process.env['GITHUB_STEP_SUMMARY'];
  if (summary) await appendFile(summary, githubSummary(comparison, build));
}

/** Variations off or not applied, each with its reason: nothing is off silently. */
function variationSection(build: BuildReportJson | undefined): string[] {
  const notes = variationNotes(build);
  return notes.length
    ? ['', '### Variations', ...notes.map((n) => `- **${n.board}**: ${describeNote(n)}`)]
    : [];
}
