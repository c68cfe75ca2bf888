/**
 * Turns each compare argument into labelled hash sets: a run folder (one set per
 * board run), a board-run folder, a manifest.json, reprorom's hashes.txt or a
 * Heads-style hashes.txt. The format is detected, never asked for.
 */
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { walkForeignFolder } from '../archive/foreignFolder.js';
import {
  decodeText,
  HASHES_FILE,
  parseHashesTxt,
  readBytes,
  readStdinText,
  readText,
  STDIN_NAME,
} from '../hashes/hashesTxt.js';
import { looksLikeHeads, parseHeadsHashes } from '../hashes/heads.js';
import { type PackedHashes, packedFolders, readPackedHashes } from '../hashes/packed.js';
import { boardRuns, holdsManifest, isRegularFile, subfolders } from '../hashes/runFolders.js';
import { MANIFEST_FILE, type Manifest, parseManifest } from '../hashes/runManifest.js';
import { buildInputsOf } from '../hashes/sameBuild.js';
import { ConfigError, UsageError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { assignKeys, display, keyedSet, kind, listFolder } from './localCopies.js';
import type { HashSet } from './model.js';

export type { ArtifactHash, HashSet, InputFormat } from './model.js';

/** The argument that means standard input. */
const STDIN = '-';

async function fromManifest(path: string): Promise<HashSet> {
  const manifest: Manifest = parseManifest(await readText(path), path);
  const dir = dirname(path);
  const notes: string[] = [];
  const hashesPath = join(dir, HASHES_FILE);
  if ((await kind(hashesPath)) === 'file') {
    const lines = parseHashesTxt(await readText(hashesPath), hashesPath);
    const recorded = new Map(manifest.artifacts.map((a) => [a.path, a.sha256]));
    const problems = lines
      .filter((l) => recorded.get(l.path) !== l.sha256)
      .map((l) => ({
        file: hashesPath,
        line: l.line,
        col: 1,
        message: recorded.has(l.path)
          ? `sha256 of "${printable(l.path)}" differs from ${MANIFEST_FILE}`
          : `"${printable(l.path)}" is not in ${MANIFEST_FILE}`,
      }));
    const listed = new Set(lines.map((l) => l.path));
    for (const a of manifest.artifacts) {
      if (!listed.has(a.path))
        problems.push({
          file: hashesPath,
          line: lines.length + 1,
          col: 1,
          message: `"${printable(a.path)}" from ${MANIFEST_FILE} is missing`,
        });
    }
    if (problems.length > 0)
      throw new ConfigError(problems, 'the run folder was edited after it was written: rebuild it');
  }
  return manifestSet(manifest, path, await keyedSet(dir, manifest.artifacts, notes, true), notes, dir);
}

/**
 * One board run's set, read from its manifest wherever it came from (a file or stdin): a culprit
 * rerun or a restored run stays marked as one, so it is never counted as another agreeing run.
 */
function manifestSet(
  manifest: Manifest,
  source: string,
  rows: HashSet['rows'],
  notes: string[],
  manifestDir: string | undefined,
): HashSet {
  const name = source === STDIN ? STDIN_NAME : display(source);
  if (manifest.result === 'failed') notes.push(`${name}: the run failed (exit code ${manifest.exitCode})`);
  const run = runLabel(manifest);
  return {
    label: run,
    run,
    buildInputs: buildInputsOf(manifest),
    source,
    format: 'manifest',
    board: manifest.board,
    complete: true,
    rows,
    notes,
    manifestDir,
    ...(manifest.run.culpritSearch ? { culpritRerun: true } : {}),
    ...(manifest.run.restored ? { restoredRun: true } : {}),
  };
}

async function fromHashesFile(path: string): Promise<HashSet> {
  const sibling = join(dirname(path), MANIFEST_FILE);
  if (basename(path) === HASHES_FILE && (await kind(sibling)) === 'file') return fromManifest(sibling);
  // The usual large list is packed as it is read; anything else is parsed as text, as before.
  const packed = await readPackedHashes(path);
  const set = packed && (await fromPacked(packed, path, dirname(path)));
  if (set) return set;
  const bytes = await readBytes(path);
  const text = decodeText(bytes, path);
  if (text.trimStart().startsWith('{')) return fromManifest(path);
  return fromHashesText(text, path, dirname(path));
}

/**
 * A packed hashes list as a set, when none of the folders it names exists below `dir` (a list
 * from another machine: nothing to hash here); undefined when one does, and the text path,
 * which hashes the local copies, takes it. Its artifacts are made only when read.
 */
async function fromPacked(packed: PackedHashes, path: string, dir: string): Promise<HashSet | undefined> {
  const root = await realpath(dir).catch(() => resolve(dir));
  const notes: string[] = [];
  for (const folder of packedFolders(packed))
    if ((await listFolder(dir, root, folder, notes)) !== undefined) return undefined;
  return {
    label: display(path),
    source: path,
    format: 'hashes.txt',
    board: undefined,
    complete: true,
    rows: { kind: 'packed', packed },
    notes,
    manifestDir: undefined,
  };
}

/**
 * `compare -`: a hashes list (or manifest) on standard input. There is no folder to look for
 * local copies in, so its artifacts are compared by hash only (no diff report).
 */
async function fromStdin(): Promise<HashSet> {
  const text = await readStdinText();
  if (text.trimStart().startsWith('{')) {
    const manifest = parseManifest(text, STDIN_NAME);
    const { keyed } = assignKeys(manifest.artifacts.map((a) => ({ path: a.path, sha256: a.sha256 })));
    return manifestSet(
      manifest,
      STDIN,
      { kind: 'listed', artifacts: keyed, byKey: undefined },
      [],
      undefined,
    );
  }
  return fromHashesText(text, STDIN, undefined);
}

/** A hashes list read from `path` (or stdin); its local copies are looked for in `dir` when given. */
async function fromHashesText(text: string, path: string, dir: string | undefined): Promise<HashSet> {
  const file = path === STDIN ? STDIN_NAME : path;
  const label = path === STDIN ? STDIN_NAME : display(path);
  const notes: string[] = [];
  if (looksLikeHeads(text)) {
    const heads = parseHeadsHashes(text, file);
    if (heads.header) {
      notes.push(
        `${label}: Heads build of commit ${heads.header.commit} (${heads.header.state}) on ${heads.header.date}`,
      );
      if (heads.header.state === 'dirty')
        notes.push(`${label}: the Heads tree was dirty: its ROM is not from a committed source`);
    }
    return {
      label,
      source: path,
      format: 'heads',
      board: undefined,
      complete: false,
      rows: {
        kind: 'listed',
        artifacts: assignKeys(heads.entries).keyed.map((e) => ({
          key: e.key,
          path: e.path,
          sha256: e.sha256,
          ...(e.members.length > 0 ? { members: e.members } : {}),
        })),
        byKey: undefined,
      },
      notes,
      manifestDir: undefined,
    };
  }
  const lines = parseHashesTxt(text, file);
  const rows: HashSet['rows'] =
    dir === undefined
      ? { kind: 'listed', artifacts: assignKeys(lines).keyed, byKey: undefined }
      : await keyedSet(dir, lines, notes);
  return {
    label,
    source: path,
    format: 'hashes.txt',
    board: undefined,
    complete: true,
    rows,
    notes,
    manifestDir: undefined,
  };
}

/** Board-run folders below `dir`: itself, its children (a board) or grandchildren (a run). */
async function findRunDirs(dir: string): Promise<string[]> {
  const holds = async (d: string) => (await holdsManifest(d)) || (await isRegularFile(join(d, HASHES_FILE)));
  if (await holds(dir)) return [dir];
  const found: string[] = [];
  for (const name of await subfolders(dir)) {
    const child = join(dir, name);
    if (await holds(child)) found.push(child);
    else found.push(...(await boardRuns(child, holds, { numberedOnly: false })));
  }
  return found;
}

export async function loadInput(input: string): Promise<HashSet[]> {
  const sets = await loadArgument(input);
  for (const s of sets) s.input = input;
  return sets;
}

async function loadArgument(input: string): Promise<HashSet[]> {
  if (input === STDIN) return [await fromStdin()];
  const path = resolve(input);
  // The argument itself may be a link (a `latest` link to a run folder); links inside it are not followed.
  const k = await kind(path, true);
  if (k === undefined)
    throw new UsageError(
      `compare input "${input}" does not exist or is not a file or folder`,
      'pass run folders, manifest.json or hashes.txt files',
    );
  if (k === 'file')
    return [basename(path) === MANIFEST_FILE ? await fromManifest(path) : await fromHashesFile(path)];
  // A folder may come from elsewhere: a link, device, FIFO or socket anywhere in it is refused
  // by name before anything in it is read.
  await walkForeignFolder(await realpath(path));
  const dirs = await findRunDirs(path);
  if (dirs.length === 0)
    throw new UsageError(
      `no ${MANIFEST_FILE} or ${HASHES_FILE} found in "${input}" or the two folder levels below it`,
      'pass a run folder such as .reprorom/runs/<RUN> or a board run folder',
    );
  const sets: HashSet[] = [];
  for (const d of dirs) {
    sets.push(
      (await kind(join(d, MANIFEST_FILE))) === 'file'
        ? await fromManifest(join(d, MANIFEST_FILE))
        : await fromHashesFile(join(d, HASHES_FILE)),
    );
  }
  return sets;
}

/** Load every input; labels are made unique so a verdict can name exactly one input. */
export async function loadInputs(inputs: readonly string[]): Promise<HashSet[]> {
  if (inputs.filter((i) => i === STDIN).length > 1)
    throw new UsageError(
      'compare input "-" (standard input) is given more than once',
      'pass "-" once; save the other lists to files',
    );
  const sets: HashSet[] = [];
  for (const input of inputs) sets.push(...(await loadInput(input)));
  await refuseSameInput(sets);
  const seen = new Map<string, number>();
  for (const s of sets) seen.set(s.label, (seen.get(s.label) ?? 0) + 1);
  const used = new Map<string, number>();
  for (const s of sets) {
    if ((seen.get(s.label) ?? 0) < 2) continue;
    const n = (used.get(s.label) ?? 0) + 1;
    used.set(s.label, n);
    s.label = `${s.label} (${n})`;
  }
  return sets;
}

/**
 * One build compared with itself proves nothing: refuse two sets read from the same file
 * (the same path twice, a link, a run's hashes.txt and its manifest.json) or naming the
 * same run (a copy of a run folder). Two bare hashes files with equal lines are two
 * machines agreeing, so equal bytes alone are not refused.
 */
async function refuseSameInput(sets: readonly HashSet[]): Promise<void> {
  const files = new Map<string, HashSet>();
  const runs = new Map<string, HashSet>();
  const refuse = (a: HashSet, b: HashSet, what: string) =>
    new UsageError(
      `compare inputs "${printable(a.input ?? a.source)}" and "${printable(b.input ?? b.source)}" are ${what}: one build compared with itself proves nothing`,
      'compare different runs: a run folder built with --runs 2 or more, or run folders from other machines',
    );
  for (const s of sets) {
    // Standard input is read once and is no file on disk: given once, it cannot be another input's file.
    if (s.source !== STDIN) {
      const st = await stat(s.source);
      const id = `${st.dev}:${st.ino}`;
      const sameFile = files.get(id);
      if (sameFile) throw refuse(sameFile, s, `the same file (${printable(display(s.source))})`);
      files.set(id, s);
    }
    if (s.run === undefined) continue;
    const sameRun = runs.get(s.run);
    if (sameRun) throw refuse(sameRun, s, `the same run (${printable(s.run)}, read from two files)`);
    runs.set(s.run, s);
  }
}

/** `RUN/BOARD#N@MACHINE`: how a run is named in verdicts, from its manifest. */
function runLabel(manifest: Manifest): string {
  const machine = manifest.run.machine ? `@${manifest.run.machine}` : '';
  return `${manifest.run.id}/${manifest.board}#${manifest.run.index}${machine}`;
}
