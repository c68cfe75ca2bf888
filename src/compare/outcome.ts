/**
 * Load, compare and explain: the work of `compare`, also used by `build`, `release` and
 * `verify` on run folders. Returns values; rendering belongs to the CLI.
 */
import { dirname, join, resolve } from 'node:path';
import type { ComparedInputJson, ComparisonJson } from '../contracts/json.js';
import { culpritRunsNote } from '../hashes/culpritRuns.js';
import { refuseDifferentInputs } from '../hashes/sameBuild.js';
import { UsageError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { allArtifacts, compareSets } from './compare.js';
import { type Explanation, explainDifference } from './explain.js';
import { loadInputs } from './inputs.js';
import { type ArtifactHash, type ArtifactResult, byKeyOf, type Comparison, type HashSet } from './model.js';

export interface CompareOptions {
  json?: boolean;
  report?: string;
  /** For tests: `null` forces the built-in diff summary. */
  diffoscope?: string | null;
  /** Stops a running diffoscope (a signal while a build compares its runs). */
  signal?: AbortSignal;
  /** Compare culprit-search reruns too (left out by default: they are not runs of a build). */
  culpritRuns?: boolean;
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
  /** When both files are cpio archives (an initrd): the members that differ. */
  members?: Explanation['members'];
  /** Dates and times that changed between the two files (a build time stamp). */
  stamps?: Explanation['stamps'];
}

/** A pair of local files to diff: one from the majority, one from the first input that disagrees. */
function pairFor(a: ArtifactResult, byLabel: ReadonlyMap<string, Map<string, ArtifactHash> | undefined>) {
  const local = (label: string) => {
    const file = byLabel.get(label)?.get(a.key)?.file;
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
  const mismatches = c.problems.filter((x) => x.verdict === 'mismatch');
  // A packed list was loaded only because none of its files is here: no map of it is built.
  const byLabel = new Map(
    sets.map((s) => [s.label, mismatches.length > 0 && s.rows.kind === 'listed' ? byKeyOf(s) : undefined]),
  );
  const unexplained: string[] = [];
  for (const a of mismatches) {
    const pair = pairFor(a, byLabel);
    const reportDir = outDir ?? (pair ? join(dirname(pair.reference.path), 'diff') : undefined);
    if (!pair || !reportDir) {
      unexplained.push(a.name);
      continue;
    }
    opts.signal?.throwIfAborted();
    const ex = await explainDifference(pair.reference, pair.other, reportDir, a.name, {
      ...(opts.diffoscope === undefined ? {} : { diffoscope: opts.diffoscope }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    reports.push({
      artifact: a.name,
      a: pair.reference.label,
      b: pair.other.label,
      tool: ex.tool,
      text: ex.text,
      html: ex.html,
      summary: ex.summary,
      note: ex.note,
      ...(ex.members ? { members: ex.members } : {}),
      ...(ex.stamps ? { stamps: ex.stamps } : {}),
    });
  }
  const note = unexplainedNote(unexplained);
  if (note) c.notes.push(note);
  return reports;
}

/** One note for the mismatches with no local copies to diff: by name when one, counted when more. */
function unexplainedNote(names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  if (names.length === 1)
    return `${names[0]}: no local copies on both sides of the mismatch, so no diff report (compare run folders to get one)`;
  return `${names.length.toLocaleString('en-US')} mismatches have no local copies on both sides; compare run folders to get diff reports`;
}

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
  const loaded = await loadInputs(inputs);
  const sets = opts.culpritRuns ? loaded : loaded.filter((s) => !s.culpritRerun);
  const reruns = loaded.length - sets.length;
  if (sets.length === 0)
    throw new UsageError(
      `every run in ${inputs.map((i) => `"${printable(i)}"`).join(', ')} is a culprit-search rerun, not a run of a build`,
      "compare the build's run folder, or pass --culprit-runs to compare the reruns themselves",
    );
  // Equal bytes from different sources or commands prove nothing: refused, as merge refuses them.
  refuseDifferentInputs(
    sets.flatMap((s) =>
      s.board && s.buildInputs
        ? [{ board: s.board, inputs: s.buildInputs, name: `${s.run ?? s.label} (${s.input ?? s.source})` }]
        : [],
    ),
    'compare only runs built from the same pins, image, source and commands: rebuild both from the same commit',
  );
  const comparison = compareSets(sets);
  if (reruns > 0) comparison.notes.push(culpritRunsNote(reruns));
  const reports = await explainMismatches(comparison, sets, opts);
  return { comparison, reports };
}

/** `RUN/BOARD#N@MACHINE` (every part a simple name, so the separators are unambiguous). */
const RUN_NAME = /^([^/#@]+)\/[^/#@]+#(\d+)(?:@([^/#@]+))?$/;

/** An input as JSON: keyed by its run (or its file), never by a label made for a terminal. */
function inputJson(input: Comparison['inputs'][number]): ComparedInputJson {
  const m = input.run === undefined ? null : RUN_NAME.exec(input.run);
  return {
    id: input.run ?? input.source,
    label: input.label,
    source: input.source,
    format: input.format,
    board: input.board ?? null,
    run: m ? { id: m[1] ?? '', index: Number(m[2]), machine: m[3] ?? null } : null,
  };
}

export function comparisonJson({ comparison, reports }: CompareOutcome): ComparisonJson {
  const inputs = comparison.inputs.map(inputJson);
  const idOf = new Map(comparison.inputs.map((input, i) => [input.label, inputs[i]?.id ?? input.label]));
  const id = (label: string) => idOf.get(label) ?? label;
  // Board runs are labelled by their id already: their rows are passed on as they are.
  const relabel = inputs.some((input, i) => input.id !== comparison.inputs[i]?.label);
  return {
    ok: comparison.ok,
    inputs,
    artifacts: allArtifacts(comparison).map(
      ({ name, key, board, verdict, hashes, disagreeing, majority, members }) => {
        const byId = (record: Record<string, string | null>) => {
          if (!relabel) return record;
          const out: Record<string, string | null> = {};
          for (const label in record) out[id(label)] = record[label] ?? null;
          return out;
        };
        return {
          name,
          key,
          board: board ?? null,
          verdict,
          hashes: byId(hashes),
          disagreeing: relabel ? disagreeing.map(id) : disagreeing,
          majority: majority ?? null,
          ...(members ? { members: members.map((m) => ({ ...m, hashes: byId(m.hashes) })) } : {}),
        };
      },
    ),
    notes: comparison.notes,
    unrelated: comparison.unrelated,
    reports: reports.map(({ summary: _summary, ...r }) => ({
      ...r,
      a: id(r.a),
      b: id(r.b),
      html: r.html ?? null,
      note: r.note ?? null,
    })),
  };
}
