/**
 * `reprorom merge`: many machines' run folders (for example one per CI shard)
 * become one run folder, so one `compare` sees every run of every board. Board
 * runs are renumbered per board; their manifests are copied unchanged (they are
 * the provenance), so each run keeps its own machine name and run id, and the
 * comparison labels still say which machine built what.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { safeJoin } from '../archive/containment.js';
import {
  copyForeignFile,
  copyForeignFolder,
  foreignEntry,
  walkForeignFolder,
} from '../archive/foreignFolder.js';
import { loadInput } from '../compare/inputs.js';
import { culpritRunsNote } from '../hashes/culpritRuns.js';
import { MANIFEST_FILE, type Manifest, readManifest, SIMPLE_NAME } from '../hashes/runManifest.js';
import { buildInputsOf, refuseDifferentInputs } from '../hashes/sameBuild.js';
import { readCulprits, writeCulprits } from '../report/culpritsFile.js';
import { checkParentFolder, outputError } from '../report/outputFile.js';
import { tempSibling, writeFileAtomic } from '../util/atomic.js';
import { UsageError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { NAME_PATTERN } from '../vocabulary/names.js';
import { type FoundRun, findRuns } from './find.js';

export const MERGE_FILE = 'merge.json';

export interface MergedBoardRun {
  board: string;
  /** Its number in the merged folder. */
  index: number;
  /** Where it came from: the argument, the original run id, number and machine. */
  input: string;
  runId: string;
  originalIndex: number;
  machine: string | undefined;
  /** The build log, relative to the merged folder, when the input had one. */
  log: string | undefined;
}

export interface MergeResult {
  out: string;
  runs: MergedBoardRun[];
  /** Findings that do not stop the merge (an input without runs, different image IDs). */
  notes: string[];
}

interface Loaded extends FoundRun {
  manifest: Manifest;
  text: string;
}

/** A run is identified by what its manifest says, not by where it lies. */
const runKey = (m: Manifest) =>
  `${m.run.id}/${m.board}#${m.run.index}${m.run.machine ? `@${m.run.machine}` : ''}`;

function checkConsistent(runs: Loaded[], notes: string[]): void {
  refuseDifferentInputs(
    runs.map((r) => ({
      board: r.manifest.board,
      inputs: buildInputsOf(r.manifest),
      name: `${runKey(r.manifest)} (${r.input})`,
    })),
    'merge only runs built from the same pins, source and commands',
  );
  const first = new Map<string, Loaded>();
  for (const r of runs) {
    const seen = first.get(r.manifest.board);
    if (!seen) {
      first.set(r.manifest.board, r);
      continue;
    }
    if (seen.manifest.image.id !== r.manifest.image.id) {
      notes.push(
        `board ${r.manifest.board}: image ${r.manifest.image.name} has ID ${seen.manifest.image.id} in ${runKey(seen.manifest)} but ${r.manifest.image.id} in ${runKey(r.manifest)}: the image itself did not reproduce`,
      );
    }
  }
}

async function load(inputs: string[], notes: string[], culpritRuns: boolean): Promise<Loaded[]> {
  const loaded: Loaded[] = [];
  let reruns = 0;
  const byKey = new Map<string, Loaded>();
  const byDir = new Map<string, string>();
  for (const input of inputs) {
    // A folder from elsewhere: a link, device, FIFO or socket anywhere in it is refused by name first.
    const real = await realpath(resolve(input)).catch(() => undefined);
    if (real !== undefined && (await foreignEntry(real)) === 'folder') await walkForeignFolder(real);
    const found = await findRuns(input);
    if (found.length === 0) {
      notes.push(`${input}: no board runs (a shard without boards, or a build that failed early); skipped`);
      continue;
    }
    for (const f of found) {
      const real = await realpath(f.dir);
      const again = byDir.get(real);
      if (again !== undefined)
        throw new UsageError(
          `${f.dir} is given twice (through ${again} and ${input})`,
          'pass each run folder once',
        );
      byDir.set(real, input);
      const file = join(f.dir, MANIFEST_FILE);
      const manifest = await readManifest(file);
      checkNames(manifest, file);
      // A culprit search's rerun explains a mismatch; counted as a run it would compare a
      // frozen-clock rerun with a real run and inflate the number of runs.
      if (manifest.run.culpritSearch && !culpritRuns) {
        reruns++;
        continue;
      }
      const text = await readFile(file, 'utf8');
      const run = { ...f, manifest, text };
      const board = f.dir.split(/[\\/]/).at(-2);
      if (f.runDir && board !== manifest.board) {
        throw new UsageError(
          `${file} is for board ${manifest.board}, but lies in the folder of board ${board}`,
          'do not rename board folders; rebuild or pass the original run folder',
        );
      }
      const key = runKey(manifest);
      const other = byKey.get(key);
      if (other) {
        throw new UsageError(
          other.text === text
            ? `${key} is in the inputs twice: ${other.dir} and ${f.dir}`
            : `conflicting manifests for ${key}: ${other.dir} and ${f.dir} say different things about the same run`,
          other.text === text
            ? 'pass each run once (the same shard downloaded twice?)'
            : 'give each machine its own --machine name, and do not edit manifests',
        );
      }
      byKey.set(key, run);
      loaded.push(run);
    }
  }
  if (reruns > 0) notes.push(culpritRunsNote(reruns));
  return loaded;
}

/**
 * Where a name taken from an input manifest lands below `root`. The manifest schema already
 * allows only simple names; this is the containment check every such path goes through
 * before anything is read or written, so a hostile manifest can never point outside.
 */
function inside(root: string, ...parts: string[]): string {
  const target = safeJoin(root, join(...parts));
  if (target === undefined || parts.some((p) => p === '' || p.includes('/') || p.includes('\\')))
    throw new UsageError(
      `refused path "${printable(join(...parts))}" from an input manifest: it would leave ${root}`,
      'merge only run folders written by `reprorom build`',
    );
  return target;
}

/** Board names, run ids and machine names as the manifest schema allows them (checked again here). */
function checkNames(m: Manifest, file: string): void {
  const bad = [
    ['board', m.board, NAME_PATTERN],
    ['run.id', m.run.id, SIMPLE_NAME],
    ['run.machine', m.run.machine ?? 'x', SIMPLE_NAME],
  ] as const;
  for (const [field, value, pattern] of bad)
    if (!pattern.test(value))
      throw new UsageError(
        `${file}: ${field} "${printable(value)}" is not a simple name`,
        'merge only run folders written by `reprorom build`',
      );
}

const order = (a: Loaded, b: Loaded) => {
  const ka = [a.manifest.board, a.manifest.run.machine ?? '', a.manifest.run.id];
  const kb = [b.manifest.board, b.manifest.run.machine ?? '', b.manifest.run.id];
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
  return a.manifest.run.index - b.manifest.run.index;
};

/** Merge `inputs` into the new folder `out`, which appears in one rename or not at all. */
export async function mergeRuns(
  inputs: string[],
  out: string,
  opts: { culpritRuns?: boolean } = {},
): Promise<MergeResult> {
  if (inputs.length === 0)
    throw new UsageError('merge needs at least one run folder', 'reprorom merge RUN… --out DIR');
  const target = resolve(out);
  if (existsSync(target) && (await readdir(target).catch(() => ['(a file)'])).length > 0) {
    throw new UsageError(
      `${out} already exists and is not empty`,
      'merge into a new folder, or remove it first',
    );
  }
  await checkParentFolder(out, '--out');
  const notes: string[] = [];
  const runs = (await load(inputs, notes, opts.culpritRuns ?? false)).sort(order);
  if (runs.length === 0)
    throw new UsageError(
      `no board runs (BOARD/N/manifest.json) in ${inputs.join(', ')}`,
      'pass run folders written by `reprorom build` (.reprorom/runs/RUN)',
    );
  checkConsistent(runs, notes);
  for (const r of runs) await refuseChangedArtifacts(r.dir);

  try {
    await mkdir(dirname(target), { recursive: true });
  } catch (err) {
    throw outputError(err, out, '--out');
  }
  const tmp = tempSibling(target);
  const merged: MergedBoardRun[] = [];
  const next = new Map<string, number>();
  try {
    try {
      await mkdir(tmp);
    } catch (err) {
      throw outputError(err, out, '--out');
    }
    for (const r of runs) {
      const m = r.manifest;
      const index = (next.get(m.board) ?? 0) + 1;
      next.set(m.board, index);
      // Regular files and folders only, copied by content: a link to a host file is refused by name.
      await copyForeignFolder(await realpath(r.dir), inside(tmp, m.board, String(index)));
      // The run folder's BOARD.log holds every run of the board on that machine: kept once per origin.
      const origin = `${m.run.id}${m.run.machine ? `@${m.run.machine}` : ''}`;
      const log = join('logs', origin, `${m.board}.log`);
      const logTo = inside(tmp, 'logs', origin, `${m.board}.log`);
      const logFrom = r.runDir ? inside(r.runDir, `${m.board}.log`) : undefined;
      const hasLog = logFrom !== undefined && (await foreignEntry(logFrom)) === 'file';
      if (hasLog && !existsSync(logTo)) {
        await mkdir(dirname(logTo), { recursive: true });
        await copyForeignFile(logFrom, logTo);
      }
      merged.push({
        board: m.board,
        index,
        input: r.input,
        runId: m.run.id,
        originalIndex: m.run.index,
        machine: m.run.machine,
        log: hasLog ? log : undefined,
      });
    }
    // What each machine's culprit search found goes along, for `report --html`.
    const runDirs = [...new Set(runs.flatMap((r) => (r.runDir ? [r.runDir] : [])))];
    const culprits = (await Promise.all(runDirs.map(readCulprits))).flat();
    if (culprits.length > 0) await writeCulprits(tmp, { runDirs: [], extraRuns: 0, artifacts: culprits });
    await writeFileAtomic(
      join(tmp, MERGE_FILE),
      `${JSON.stringify({ schema: 'reprorom.merge/v1', runs: merged.map((x) => ({ ...x, machine: x.machine ?? null, log: x.log ?? null })), notes }, null, 2)}\n`,
    );
    if (existsSync(target)) await rm(target, { recursive: true });
    await rename(tmp, target);
    return { out: target, runs: merged, notes };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The log of a board run in a merged folder, from its merge.json (undefined elsewhere). */
export async function mergedLog(runDir: string, board: string, index: number): Promise<string | undefined> {
  try {
    const doc = JSON.parse(await readFile(join(runDir, MERGE_FILE), 'utf8')) as {
      runs?: Array<{ board?: unknown; index?: unknown; log?: unknown }>;
    };
    const hit = doc.runs?.find((r) => r.board === board && r.index === index);
    // merge.json is an input file too: its log path must stay inside the run folder.
    return typeof hit?.log === 'string' ? safeJoin(runDir, hit.log) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A run folder that carries its artifacts must carry every one its manifest lists, with the
 * bytes it records: the same reading `compare` does. Otherwise the copy could drop an
 * emptied artifacts folder and leave a manifest-only run that compares as recorded.
 */
async function refuseChangedArtifacts(dir: string): Promise<void> {
  for (const set of await loadInput(join(dir, MANIFEST_FILE))) {
    if (set.rows.kind !== 'listed') continue;
    const changed = set.rows.artifacts.find((a) => a.recorded !== undefined);
    if (changed)
      throw new UsageError(
        `${printable(changed.file ?? join(dir, changed.path))}: file on disk has sha256 ${changed.sha256}, but ${changed.recorded} was recorded`,
        'the run folder was changed after it was written: copy it again, or rebuild it',
      );
  }
}
