/** `reprorom compare A B [C…]`: verdicts for every artifact, and a diff report for each mismatch. */
import { dirname, join, relative, resolve } from 'node:path';
import { type ArtifactResult, type Comparison, compareSets } from '../../compare/compare.js';
import type { Explanation } from '../../compare/explain.js';
import { type HashSet, loadInputs } from '../../compare/inputs.js';
import { renderProblems, renderSummary, renderTable } from '../../compare/table.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { paint, printJson, printLine } from '../output.js';

export interface CompareOptions {
  json?: boolean;
  report?: string;
  /** For tests: `null` forces the built-in diff summary. */
  diffoscope?: string | null;
}

export interface ReportResult {
  artifact: string;
  a: string;
  b: string;
  tool: Explanation['tool'];
  text: string;
  html: string | undefined;
  summary: string[];
  note: string | undefined;
}

/** A pair of local files to diff: one from the majority, one from the first input that disagrees. */
function pairFor(a: ArtifactResult, sets: readonly HashSet[]) {
  const local = (label: string) => {
    const set = sets.find((s) => s.label === label);
    const file = set?.artifacts.find((x) => x.key === a.key)?.file;
    return file ? { label, path: file } : undefined;
  };
  const reference = Object.keys(a.hashes)
    .filter((l) => a.hashes[l] === a.majority)
    .map(local)
    .find(Boolean);
  const other = a.disagreeing.map(local).find(Boolean);
  return reference && other ? { reference, other } : undefined;
}

async function explainMismatches(
  c: Comparison,
  sets: readonly HashSet[],
  opts: CompareOptions,
): Promise<ReportResult[]> {
  const reports: ReportResult[] = [];
  const firstManifestDir = sets.find((s) => s.manifestDir)?.manifestDir;
  const outDir = opts.report
    ? resolve(opts.report)
    : firstManifestDir
      ? join(firstManifestDir, 'diff')
      : undefined;
  for (const a of c.artifacts.filter((x) => x.verdict === 'mismatch')) {
    const pair = pairFor(a, sets);
    const reportDir = outDir ?? (pair ? join(dirname(pair.reference.path), 'diff') : undefined);
    if (!pair || !reportDir) {
      c.notes.push(
        `${a.name}: no local copies on both sides of the mismatch, so no diff report (compare run folders to get one)`,
      );
      continue;
    }
    // Loaded only for a mismatch: it runs diffoscope through execa.
    const { explainDifference } = await import('../../compare/explain.js');
    const ex = await explainDifference(
      pair.reference,
      pair.other,
      reportDir,
      a.name,
      opts.diffoscope === undefined ? {} : { diffoscope: opts.diffoscope },
    );
    reports.push({
      artifact: a.name,
      a: pair.reference.label,
      b: pair.other.label,
      tool: ex.tool,
      text: ex.text,
      html: ex.html,
      summary: ex.summary,
      note: ex.note,
    });
  }
  return reports;
}

const shown = (p: string) => {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
};

export interface CompareOutcome {
  comparison: Comparison;
  reports: ReportResult[];
}

/** Load, compare and explain: the work of `compare`, also used by `build` on its own run folder. */
export async function compareInputs(inputs: string[], opts: CompareOptions): Promise<CompareOutcome> {
  if (inputs.length === 0)
    throw new UsageError(
      'compare needs at least one input',
      'reprorom compare RUN_A RUN_B, or one run folder with two or more runs',
    );
  const sets = await loadInputs(inputs);
  const comparison = compareSets(sets);
  const reports = await explainMismatches(comparison, sets, opts);
  return { comparison, reports };
}

export function comparisonJson({ comparison, reports }: CompareOutcome) {
  return {
    ok: comparison.ok,
    inputs: comparison.inputs,
    artifacts: comparison.artifacts.map(({ name, key, board, verdict, hashes, disagreeing, majority }) => ({
      name,
      key,
      board: board ?? null,
      verdict,
      hashes,
      disagreeing,
      majority: majority ?? null,
    })),
    notes: comparison.notes,
    reports: reports.map(({ summary: _summary, ...r }) => ({
      ...r,
      html: r.html ?? null,
      note: r.note ?? null,
    })),
  };
}

export function printComparison({ comparison, reports }: CompareOutcome): void {
  for (const l of renderTable(comparison, (code, text) => paint(code, text))) printLine(l);
  const problems = renderProblems(comparison);
  if (problems.length > 0) printLine();
  for (const l of problems) printLine(l);
  for (const r of reports) {
    printLine();
    printLine(
      `diff ${r.artifact}: ${r.a} vs ${r.b}${r.tool === 'builtin' ? ' (built-in summary)' : ' (diffoscope)'}`,
    );
    for (const l of r.summary.slice(2, 14)) printLine(`  ${l}`);
    printLine(`  report: ${shown(r.text)}${r.html ? `, ${shown(r.html)}` : ''}`);
    if (r.note) printLine(paint('dim', `  ${r.note}`));
  }
  if (comparison.notes.length > 0) printLine();
  for (const n of comparison.notes) printLine(paint('dim', `note: ${n}`));
  printLine();
  printLine(paint(comparison.ok ? 'green' : 'red', renderSummary(comparison)));
}

export async function runCompare(
  inputs: string[],
  opts: CompareOptions & { junit?: string },
): Promise<number> {
  const outcome = await compareInputs(inputs, opts);
  const { writeJunit } = await import('../../report/junit.js');
  const { publishGithub } = await import('../../report/github.js');
  if (opts.junit) await writeJunit(opts.junit, comparisonJson(outcome));
  await publishGithub(comparisonJson(outcome));
  if (opts.json) printJson(comparisonJson(outcome));
  else printComparison(outcome);
  return outcome.comparison.ok ? ExitCode.ok : ExitCode.mismatch;
}
