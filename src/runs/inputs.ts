/**
 * A run's inputs, ready to go into its container: pinned files from the cache (verified),
 * and producers' artifacts from the producer's run with the same index, hashed again and
 * checked against the producer's manifest before use, so an artifact changed after its
 * build never reaches a consumer unnoticed.
 */
import { join } from 'node:path';
import { MANIFEST_FILE, type ManifestInputRecord, readManifest } from '../hashes/runManifest.js';
import {
  describeFileInput,
  type FetchedInput,
  type FileInput,
  fetchFileInput,
} from '../sources/fileInputs.js';
import type { TreeEntry } from '../sources/tree.js';
import { BuildFailedError } from '../util/errors.js';
import { sha256File } from '../util/sha256.js';
import type { Board, BoardInput } from '../workspace/schema.js';

/** A file to place at `record.path` in the source tree. */
export interface PlacedInput {
  file: string;
  record: ManifestInputRecord;
}

export interface FetchedFileInput {
  input: FileInput;
  fetched: FetchedInput;
}

/** Download (or take from the cache) and verify every pinned file a board takes. */
export async function fetchFileInputs(
  board: Board,
  workspaceRoot: string,
  signal?: AbortSignal,
): Promise<FetchedFileInput[]> {
  const out: FetchedFileInput[] = [];
  for (const input of board.inputs) {
    if (input.type === 'board') continue;
    out.push({ input, fetched: await fetchFileInput(input, signal, workspaceRoot) });
  }
  return out;
}

/**
 * Why an input cannot go to `path` in this source tree: a file (or a link) is already there
 * or on the way. An input never silently replaces a file of the source.
 */
export function placementProblem(entries: readonly TreeEntry[], path: string): string | undefined {
  for (const e of entries) {
    if (e.rel === path) return `the source already has ${e.kind === 'dir' ? 'a folder' : 'a file'} there`;
    if (path.startsWith(`${e.rel}/`) && e.kind !== 'dir') return `"${e.rel}" in the source is not a folder`;
  }
  return undefined;
}

export function assertPlaceable(boardName: string, board: Board, entries: readonly TreeEntry[]): void {
  for (const input of board.inputs) {
    const why = placementProblem(entries, input.path);
    if (why)
      throw new BuildFailedError(
        `board ${boardName}: input path "${input.path}" cannot be used: ${why}`,
        `choose another path for the input in boards/${boardName}.yaml`,
      );
  }
}

export function fileInputRecord({ input, fetched }: FetchedFileInput): PlacedInput {
  const base = { path: input.path, sha256: fetched.sha256, size: fetched.size };
  const record: ManifestInputRecord =
    input.type === 'url'
      ? { type: 'url', ...base, url: input.url }
      : { type: 'debian', ...base, package: input.package, version: input.version, arch: input.arch };
  return { file: fetched.file, record };
}

/**
 * The producer's artifact from its run folder, checked against that run's manifest.
 * `outDir` undefined: the producer's run failed (or never ran).
 */
export async function producerInput(
  consumer: string,
  input: Extract<BoardInput, { type: 'board' }>,
  index: number,
  outDir: string | undefined,
): Promise<PlacedInput> {
  const what = `input ${input.path} (board ${input.board}, artifact ${input.artifact})`;
  if (!outDir)
    throw new BuildFailedError(
      `board ${consumer} run ${index}: ${what} is missing: run ${index} of ${input.board} failed`,
      `fix board ${input.board} first; its run is reported above`,
    );
  const manifest = await readManifest(join(outDir, MANIFEST_FILE));
  const recorded = manifest.artifacts.find((a) => a.path === `artifacts/${input.artifact}`);
  if (!recorded)
    throw new BuildFailedError(
      `board ${consumer} run ${index}: ${what}: run ${manifest.run.index} of ${input.board} produced no artifact ${input.artifact}`,
      `its artifacts: ${manifest.artifacts.map((a) => a.path.replace(/^artifacts\//, '')).join(', ') || '(none)'}`,
    );
  const file = join(outDir, recorded.path);
  const actual = await sha256File(file).catch(() => 'missing');
  if (actual !== recorded.sha256)
    throw new BuildFailedError(
      `board ${consumer} run ${index}: ${what} changed after it was built: ${input.board}'s manifest says sha256 ${recorded.sha256}, the file has ${actual}`,
      `rebuild ${input.board}; a run folder's artifacts must not be edited`,
    );
  return {
    file,
    record: {
      type: 'board',
      path: input.path,
      sha256: recorded.sha256,
      size: recorded.size,
      board: input.board,
      artifact: input.artifact,
      run: manifest.run.index,
    },
  };
}

/** `input payload/seabios.elf (board seabios-coreboot, artifact out/bios.bin.elf)`: an input as people name it. */
export function describeInput(record: ManifestInputRecord): string {
  if (record.type === 'board')
    return `input ${record.path} (board ${record.board}, artifact ${record.artifact})`;
  const asFile: FileInput =
    record.type === 'url'
      ? { type: 'url', url: record.url ?? '', sha256: record.sha256, path: record.path }
      : {
          type: 'debian',
          package: record.package ?? '',
          version: record.version ?? '',
          arch: record.arch ?? '',
          sha256: record.sha256,
          path: record.path,
        };
  return `input ${record.path} (${describeFileInput(asFile)})`;
}
