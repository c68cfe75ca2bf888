/**
 * The machine-readable result of `build` (also what `--json` prints). JUnit,
 * GitHub annotations, the HTML report and release checks all read this one shape.
 */
import type { BuildReportJson, ComparisonJson } from '../contracts/json.js';
import type { CulpritSearch } from './culprit.js';
import type { BuildResult } from './execute.js';

export function buildReportJson(
  result: BuildResult,
  comparison: ComparisonJson | null,
  shard: { index: number; count: number } | null,
  culprits: CulpritSearch | null = null,
  /** False when a run or boot check failed or the runs disagree (the command decides). */
  ok = true,
): BuildReportJson {
  return {
    schema: 'reprorom.build/v1',
    ok,
    runId: result.runId,
    runDir: result.runDir,
    shard,
    boards: result.boards.map((b) => ({
      board: b.board,
      image: b.image,
      sourceHash: b.sourceHash ?? null,
      log: b.log,
      vary: {
        on: [...b.vary.on],
        off: definedOnly(b.vary.off),
        notApplied: definedOnly(b.vary.notApplied),
      },
      runs: b.runs.map((r) => ({
        index: r.index,
        ok: r.ok,
        dir: r.outDir ?? null,
        error: r.error ?? null,
        durationMs: r.durationMs ?? null,
        variations: r.variations,
        variation: { ...r.variation },
        notApplied: definedOnly(r.notApplied ?? {}),
        ...(r.boot ? { boot: r.boot } : {}),
        ...(r.logTail ? { logTail: r.logTail } : {}),
        ...(r.restored ? { restored: r.restored } : {}),
      })),
    })),
    comparison,
    culprits: culprits && {
      runDirs: culprits.runDirs,
      extraRuns: culprits.extraRuns,
      artifacts: culprits.artifacts,
    },
  };
}

function definedOnly(record: Partial<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter((e): e is [string, string] => e[1] !== undefined));
}
