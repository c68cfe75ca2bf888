/**
 * The machine-readable result of `build` (also what `--json` prints). JUnit,
 * GitHub annotations, the HTML report and release checks all read this one shape.
 */
import type { comparisonJson } from '../cli/commands/compare.js';
import type { BuildResult } from './runBuild.js';

export type ComparisonJson = ReturnType<typeof comparisonJson>;

export interface BootJson {
  ok: boolean;
  artifact: string;
  matched: string | null;
  durationMs: number;
  log: string;
  message: string;
}

export interface RunJson {
  index: number;
  ok: boolean;
  dir: string | null;
  error: string | null;
  durationMs: number | null;
  variations: string[];
  variation: Record<string, string | number>;
  boot?: BootJson;
}

export interface BoardJson {
  board: string;
  image: { name: string; id: string };
  sourceHash: string | null;
  log: string;
  runs: RunJson[];
}

export interface BuildReportJson {
  schema: 'reprorom.build/v1';
  runId: string;
  runDir: string;
  shard: { index: number; count: number } | null;
  boards: BoardJson[];
  comparison: ComparisonJson | null;
}

export function buildReportJson(
  result: BuildResult,
  comparison: ComparisonJson | null,
  shard: { index: number; count: number } | null,
): BuildReportJson {
  return {
    schema: 'reprorom.build/v1',
    runId: result.runId,
    runDir: result.runDir,
    shard,
    boards: result.boards.map((b) => ({
      board: b.board,
      image: b.image,
      sourceHash: b.sourceHash ?? null,
      log: b.log,
      runs: b.runs.map((r) => ({
        index: r.index,
        ok: r.ok,
        dir: r.outDir ?? null,
        error: r.error ?? null,
        durationMs: r.durationMs ?? null,
        variations: r.variations,
        variation: { ...r.variation },
        ...(r.boot ? { boot: r.boot } : {}),
      })),
    })),
    comparison,
  };
}
