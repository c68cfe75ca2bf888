/**
 * `build` and `image build` start by validating the whole workspace. Parsing the YAML and
 * checking it against the schemas is most of a short build's start-up (~40 ms, and it
 * loads both libraries), so a workspace whose files are byte for byte those of its last
 * successful validation is answered from that validation. The key covers every file's
 * bytes, the tool version and the validating code itself: any edit, even one that keeps a
 * file's size and time, is a full validation. References across files and the folders the
 * files name are checked on every load, since they can change without a file changing.
 * Stored in the user's cache, never in the workspace, which could bring its own.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../util/atomic.js';
import { cacheDir } from '../util/paths.js';
import { toolVersion } from '../util/version.js';
import {
  assertWorkspaceFolder,
  displayPath,
  invalidWorkspace,
  oneLine,
  readWorkspaceFiles,
  type WorkspaceFiles,
  type WorkspaceKind,
} from './files.js';
import type { LoadedEntry } from './load.js';
import { locatedFromTree, type PositionTree } from './located.js';
import { checkReferences } from './references.js';
import type { Entry, Workspace } from './types.js';

const FORMAT = 1;

interface StoredEntry {
  kind: WorkspaceKind;
  fileName: string;
  name: string;
  value: unknown;
  positions: PositionTree;
}

interface Stored {
  format: number;
  key: string;
  entries: StoredEntry[];
}

/** loadValidWorkspace (load.ts), answered from the last validation when nothing changed. */
export async function loadValidWorkspaceCached(rootDir: string): Promise<Workspace> {
  const root = resolve(rootDir);
  assertWorkspaceFolder(rootDir, root);
  const file = cacheFile(root);
  // Read once: the key and, on a miss, the full validation come from the same bytes.
  const listing = await readWorkspaceFiles(root);
  const key = workspaceKey(listing);
  const stored = key === undefined ? undefined : await readStored(file, key);
  if (stored) return fromStored(root, stored);

  const { loadWorkspace } = await import('./load.js');
  const { workspace, problems, loaded } = await loadWorkspace(rootDir, listing);
  if (problems.length > 0) throw invalidWorkspace(problems);
  if (key !== undefined) await store(file, key, loaded).catch(() => undefined); // a read-only cache only costs speed
  return workspace;
}

/** One file per workspace folder, replaced on every change. */
export function cacheFile(root: string): string {
  const id = createHash('sha256').update(root).digest('hex').slice(0, 32);
  return join(cacheDir(), 'workspaces', `${id}.json`);
}

/** undefined when a file could not be read as is: the full validation says why. */
function workspaceKey({ files, unlisted }: WorkspaceFiles): string | undefined {
  if (unlisted.size > 0) return undefined;
  const hash = createHash('sha256').update(
    `reprorom.workspace-cache/${FORMAT}\0${toolVersion()}\0${codeStamp()}\0`,
  );
  for (const f of files) {
    if (f.status !== 'read') return undefined;
    const digest = createHash('sha256').update(f.bytes).digest('hex');
    hash.update(`${f.kind}/${f.fileName}\0${digest}\0`);
  }
  return hash.digest('hex');
}

/**
 * This module's file: rewritten by every build of the tool (and, bundled, named after its
 * content and that of the validation chunk it imports), so a changed schema is a new key.
 */
function codeStamp(): string {
  const self = fileURLToPath(import.meta.url);
  const info = statSync(self);
  return `${basename(self)}:${info.size}:${info.mtimeMs}`;
}

async function readStored(file: string, key: string): Promise<Stored | undefined> {
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as Partial<Stored>;
    if (stored.format !== FORMAT || stored.key !== key || !Array.isArray(stored.entries)) return undefined;
    return stored as Stored;
  } catch {
    return undefined;
  }
}

function fromStored(root: string, stored: Stored): Workspace {
  const ws: Workspace = { root, pins: new Map(), images: new Map(), boards: new Map() };
  for (const e of stored.entries) {
    const file = displayPath(join(root, e.kind, e.fileName));
    const entry: Entry<unknown> = {
      name: e.name,
      file,
      value: e.value,
      parsed: locatedFromTree(file, e.positions),
    };
    (ws[e.kind] as Map<string, Entry<unknown>>).set(e.name, entry);
  }
  const none = { pins: new Set<string>(), images: new Set<string>(), boards: new Set<string>() };
  const problems = checkReferences(ws, none, new Set());
  if (problems.length > 0) throw invalidWorkspace(problems.map(oneLine));
  return ws;
}

async function store(file: string, key: string, loaded: LoadedEntry[]): Promise<void> {
  const entries: StoredEntry[] = loaded.map((l) => ({
    kind: l.kind,
    fileName: l.fileName,
    name: l.entry.name,
    value: l.entry.value,
    positions: l.parsed.positions(),
  }));
  const stored: Stored = { format: FORMAT, key, entries };
  await writeFileAtomic(file, JSON.stringify(stored));
}
