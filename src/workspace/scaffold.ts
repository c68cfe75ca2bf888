/**
 * `reprorom init`: the files of a first workspace in an existing firmware repository. The
 * toolchain is reprorom's own offline package set (pins/offline, pinned Debian packages) and
 * its `firmware` image, copied byte for byte from the installed package, so the image's cache
 * key is the one every other reprorom workspace with this set uses; one board builds the
 * repository itself (`type: local`) with the user's own command.
 *
 * Nothing is ever overwritten: a file that exists with other content stops init before it
 * writes anything (exit 2); one that exists with the same content is kept as it is.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { checkRelativeName } from '../archive/containment.js';
import { createFileAtomic } from '../util/atomic.js';
import { UsageError } from '../util/errors.js';
import { packageRoot } from '../util/packageRoot.js';
import { NAME_PATTERN } from './schema.js';

export interface ScaffoldRequest {
  /** The board's name (its file stem in boards/). */
  board: string;
  /** Shell commands, as the user runs them in the repository today. */
  commands: string[];
  /** Paths or globs of the ROMs the commands make, relative to the repository. */
  artifacts: string[];
}

export interface ScaffoldFile {
  /** Relative to the workspace, with "/". */
  path: string;
  content: Buffer;
}

/** The offline package set and its image, as shipped with reprorom (see package.json "files"). */
const TOOLCHAIN = ['pins/offline.yaml', 'pins/offline', 'images/firmware.yaml'];

async function shipped(root: string, rel: string): Promise<ScaffoldFile[]> {
  const path = join(root, rel);
  const entries = await readdir(path, { withFileTypes: true }).catch(() => undefined);
  if (entries === undefined) return [{ path: rel, content: await readFile(path) }];
  const out: ScaffoldFile[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1)))
    out.push(...(await shipped(root, `${rel}/${e.name}`)));
  return out;
}

export function checkRequest(r: ScaffoldRequest): void {
  if (!NAME_PATTERN.test(r.board))
    throw new UsageError(
      `--board ${JSON.stringify(r.board)} is not a board name`,
      'use lowercase letters, digits, ".", "_" or "-" (at most 64), e.g. --board x230',
    );
  if (r.commands.length === 0 || r.commands.some((c) => c.trim() === ''))
    throw new UsageError('the board needs a build command', 'pass --command "make BOARD=x230" (repeatable)');
  if (r.artifacts.length === 0)
    throw new UsageError(
      'the board needs at least one artifact',
      'pass --artifact build/x230/coreboot.rom (repeatable)',
    );
  for (const a of r.artifacts) {
    const placed = checkRelativeName(a, { normalized: true });
    if (!placed.ok)
      throw new UsageError(
        `--artifact ${JSON.stringify(a)} is not a path inside the repository (${placed.problem})`,
        'give a path or glob relative to the repository, e.g. build/x230/coreboot.rom',
      );
  }
}

/** The board file: the repository itself as the source, its artifacts never copied in. */
export function boardYaml(r: ScaffoldRequest): string {
  const board = {
    description: `${r.board}, built by the repository's own command (written by reprorom init; edit freely)`,
    image: 'firmware',
    source: {
      type: 'local',
      path: '.',
      // A ROM the host built earlier must never stand in for the one the container builds.
      exclude: r.artifacts.map((a) => `/${a}`),
    },
    commands: r.commands,
    artifacts: r.artifacts,
  };
  return `# Written by \`reprorom init\`. Fields: README "Workspace files"; \`reprorom schemas\` gives an editor completion.\n${stringify(board, { lineWidth: 0 })}`;
}

export async function scaffoldFiles(r: ScaffoldRequest): Promise<ScaffoldFile[]> {
  checkRequest(r);
  const root = packageRoot();
  const toolchain = (await Promise.all(TOOLCHAIN.map((p) => shipped(root, p)))).flat();
  return [...toolchain, { path: `boards/${r.board}.yaml`, content: Buffer.from(boardYaml(r)) }];
}

export interface ScaffoldResult {
  written: string[];
  /** Already there with exactly this content: left as it was. */
  kept: string[];
}

/** Writes the files into `workspace`; refuses (before writing anything) to replace a different file. */
export async function writeScaffold(
  workspace: string,
  files: readonly ScaffoldFile[],
): Promise<ScaffoldResult> {
  const result: ScaffoldResult = { written: [], kept: [] };
  const differing: string[] = [];
  for (const f of files) {
    const existing = await readFile(join(workspace, f.path)).catch(() => undefined);
    if (existing === undefined) continue;
    if (existing.equals(f.content)) result.kept.push(f.path);
    else differing.push(f.path);
  }
  if (differing.length > 0)
    throw new UsageError(
      `init would replace ${differing.length === 1 ? 'a file' : 'files'} that already exist${differing.length === 1 ? 's' : ''}: ${differing.join(', ')}`,
      'init never overwrites: move them aside, or pick another --board name',
    );
  for (const f of files) {
    if (result.kept.includes(f.path)) continue;
    // createFileAtomic refuses a file that appeared meanwhile: still never an overwrite.
    if (!(await createFileAtomic(join(workspace, f.path), f.content)))
      throw new UsageError(`${f.path} appeared while init was writing`, 'run init again');
    result.written.push(f.path);
  }
  return result;
}
