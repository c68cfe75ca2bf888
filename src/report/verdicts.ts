/**
 * One flat list of what a build or comparison found, for the reporters (JUnit,
 * GitHub, HTML): each board × artifact verdict, and each failed run.
 */
import type { BuildReportJson, ComparisonJson, CulpritJson } from '../contracts/json.js';

/** The verdict of runs that agree but varied nothing. */
export const NOTHING_VARIED = 'reproducible (nothing varied)';

export interface ArtifactVerdict {
  board: string;
  artifact: string;
  verdict: string;
  ok: boolean;
  hashes: Record<string, string | null>;
  disagreeing: string[];
  /** A mismatch the board declares expected: its reason. */
  expected?: string;
}

export interface FailedRun {
  board: string;
  index: number;
  error: string;
  log: string;
  /** The run's last lines of output. */
  logTail: string[];
}

/** Each board × artifact verdict; inputs named by their labels, as a person reads them. */
export function artifactVerdicts(comparison: ComparisonJson | null): ArtifactVerdict[] {
  const labelOf = new Map((comparison?.inputs ?? []).map((i) => [i.id, i.label]));
  const label = (id: string) => labelOf.get(id) ?? id;
  return (comparison?.artifacts ?? []).map((a) => {
    const board = a.board ?? '';
    return {
      board,
      artifact: board && a.name.startsWith(`${board}/`) ? a.name.slice(board.length + 1) : a.name,
      // A weak verdict says so: runs that varied nothing only show the build repeats.
      verdict: a.verdict === 'reproducible' && a.varied?.length === 0 ? NOTHING_VARIED : a.verdict,
      ok: a.verdict === 'reproducible',
      hashes: Object.fromEntries(Object.entries(a.hashes).map(([id, sha]) => [label(id), sha])),
      disagreeing: a.disagreeing.map(label),
      ...(a.expectedMismatch === undefined ? {} : { expected: a.expectedMismatch }),
    };
  });
}

export function failedRuns(report: BuildReportJson): FailedRun[] {
  return report.boards.flatMap((b) =>
    b.runs
      .filter((r) => !r.ok)
      .map((r) => ({
        board: b.board,
        index: r.index,
        error: r.error ?? 'failed',
        log: b.log,
        logTail: r.logTail ?? [],
      })),
  );
}

/** "input: hash" lines, the disagreeing inputs marked. */
export function hashLines(v: ArtifactVerdict): string[] {
  return Object.entries(v.hashes).map(
    ([input, sha]) =>
      `${input}: ${sha ?? '(missing)'}${v.disagreeing.includes(input) ? '  <- disagrees' : ''}`,
  );
}

/** What the culprit search said about this artifact, for one line of a report. */
export function culpritText(build: BuildReportJson | undefined, v: ArtifactVerdict): string | undefined {
  return culpritTextFrom(build?.culprits?.artifacts, v.board, v.artifact);
}

/** The same, from a list of culprits (a build's, or the culprits.json a build left in its run folder). */
export function culpritTextFrom(
  culprits: readonly CulpritJson[] | undefined,
  board: string,
  artifact: string,
): string | undefined {
  const found = culprits?.find(
    (c) =>
      c.board === board && (c.artifact === `artifacts/${artifact}` || c.artifact.endsWith(`/${artifact}`)),
  );
  if (!found) return undefined;
  switch (found.verdict) {
    case 'variation':
      return `differs when: ${found.culprits.join(', ')}`;
    case 'combination':
      return 'differs only when several variations change together';
    case 'nondeterministic':
      return 'differs even in the reference environment with the clock frozen (nondeterministic)';
    case 'input':
      return `caused by ${found.culprits.join(', ')}, which differed between the runs`;
    default:
      return 'culprit unknown (the extra runs failed)';
  }
}
