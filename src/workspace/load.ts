/**
 * Loads and validates a whole workspace (pins/, images/, boards/): every file,
 * every reference, every problem reported at once with its position.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { z } from 'zod';
import { ConfigError, type Problem } from '../util/errors.js';
import { parseFlakeRef } from './flakeRef.js';
import {
  type Board,
  type ImageDef,
  NAME_PATTERN,
  type Pin,
  type WorkspaceKind,
  workspaceKinds,
} from './schema.js';
import { type ParsedYaml, type PathKey, parseYamlFile } from './yamlFile.js';

export interface Entry<T> {
  name: string;
  /** Path relative to the workspace, as printed in messages. */
  file: string;
  value: T;
  parsed: ParsedYaml;
}

export interface Workspace {
  root: string;
  pins: Map<string, Entry<Pin>>;
  images: Map<string, Entry<ImageDef>>;
  boards: Map<string, Entry<Board>>;
}

export interface LoadResult {
  workspace: Workspace;
  problems: Problem[];
  files: number;
}

const KINDS: WorkspaceKind[] = ['pins', 'images', 'boards'];

export async function loadWorkspace(rootDir: string): Promise<LoadResult> {
  const root = resolve(rootDir);
  const problems: Problem[] = [];
  const workspace: Workspace = { root, pins: new Map(), images: new Map(), boards: new Map() };
  // Files that exist but are invalid: references to them are not reported again as dangling.
  const invalid: Record<WorkspaceKind, Set<string>> = {
    pins: new Set(),
    images: new Set(),
    boards: new Set(),
  };
  let files = 0;
  for (const kind of KINDS) {
    const dir = join(root, kind);
    if (!existsSync(dir)) continue;
    for (const fileName of (await readdir(dir)).sort()) {
      if (!/\.ya?ml$/.test(fileName)) continue;
      const full = join(dir, fileName);
      if (!(await stat(full)).isFile()) continue;
      files++;
      const file = relative(process.cwd(), full) || full;
      const name = fileName.replace(/\.ya?ml$/, '');
      if (!NAME_PATTERN.test(name)) {
        problems.push({
          file,
          line: 1,
          col: 1,
          message: `file name "${name}" is not a valid ${kind.slice(0, -1)} name, expected lowercase letters, digits, ".", "_" or "-"`,
        });
        continue;
      }
      const result = parseYamlFile(file, await readFile(full));
      if (!result.ok) {
        problems.push(...result.problems);
        invalid[kind].add(name);
        continue;
      }
      const checked = validate(kind, result.parsed);
      problems.push(...checked.problems);
      if (checked.value === undefined) {
        invalid[kind].add(name);
        continue;
      }
      const target = workspace[kind] as Map<string, Entry<unknown>>;
      if (target.has(name)) {
        problems.push({
          file,
          line: 1,
          col: 1,
          message: `${kind.slice(0, -1)} "${name}" is defined twice (.yaml and .yml), expected one file`,
        });
        continue;
      }
      target.set(name, { name, file, value: checked.value, parsed: result.parsed });
    }
  }
  problems.push(...checkReferences(workspace, invalid));
  return { workspace, problems, files };
}

/** Load, and throw one ConfigError listing every problem if there are any. */
export async function loadValidWorkspace(rootDir: string): Promise<Workspace> {
  const { workspace, problems } = await loadWorkspace(rootDir);
  if (problems.length > 0) throw new ConfigError(problems, 'fix the files above, then run `reprorom check`');
  return workspace;
}

function validate(kind: WorkspaceKind, parsed: ParsedYaml): { value: unknown; problems: Problem[] } {
  const schema = workspaceKinds[kind] as z.ZodType;
  const result = schema.safeParse(parsed.value);
  const problems: Problem[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(...issueProblems(parsed, issue));
  } else if (kind === 'pins') {
    const pin = result.data as Pin;
    const ref = parseFlakeRef(pin.flake);
    if (!ref.ok) problems.push(located(parsed, ['flake'], ref.message));
  }
  return { value: result.success && problems.length === 0 ? result.data : undefined, problems };
}

function located(parsed: ParsedYaml, path: readonly PathKey[], message: string): Problem {
  const { line, col } = parsed.at(path);
  return { file: parsed.file, line, col, message };
}

function issueProblems(parsed: ParsedYaml, issue: z.core.$ZodIssue): Problem[] {
  const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
  const where = path.length > 0 ? `${path.join('.')}: ` : '';
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const { line, col } = parsed.keyAt(path, key);
      const known = knownKeys(issue);
      return { file: parsed.file, line, col, message: `unknown key "${key}"${known}` };
    });
  }
  if (issue.code === 'invalid_key') {
    const key = String(path[path.length - 1]);
    const { line, col } = parsed.keyAt(path.slice(0, -1), key);
    return [
      {
        file: parsed.file,
        line,
        col,
        message: `${where}key is not allowed here, ${expectation(issue.issues[0] ?? issue)}`,
      },
    ];
  }
  if (issue.code === 'invalid_type' && path.length > 0 && !parsed.doc.hasIn(path)) {
    const key = path[path.length - 1];
    const parent = path.slice(0, -1);
    const { line, col } = parsed.at(parent);
    return [{ file: parsed.file, line, col, message: `missing key "${String(key)}", ${expectation(issue)}` }];
  }
  return [located(parsed, path, `${where}${expectation(issue)}`)];
}

function knownKeys(_issue: z.core.$ZodIssue): string {
  return ', expected only the keys documented in the schema';
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  array: 'a list',
  object: 'a mapping',
  boolean: 'true or false',
};

function expectation(issue: z.core.$ZodIssue): string {
  const msg = issue.message;
  if (issue.code === 'invalid_type') {
    // zod's own default reads "Invalid input: expected string, received …"; ours start with "expected".
    if (msg.startsWith('expected ')) return msg;
    return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
  }
  if (issue.code === 'invalid_value')
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (issue.code === 'too_small' && issue.origin === 'array')
    return msg.startsWith('expected') ? msg : `expected at least ${issue.minimum} item(s)`;
  if (issue.code === 'too_small') return `expected at least ${issue.minimum}`;
  if (issue.code === 'too_big') return `expected at most ${issue.maximum}`;
  if (issue.code === 'invalid_union')
    return msg.startsWith('expected') ? msg : 'expected one of the documented forms';
  return msg.startsWith('expected') ? msg : `expected ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`;
}

function checkReferences(ws: Workspace, invalid: Record<WorkspaceKind, Set<string>>): Problem[] {
  const problems: Problem[] = [];
  const ref = (entry: Entry<unknown>, path: PathKey[], kind: 'pins' | 'images', target: string) => {
    if (ws[kind].has(target) || invalid[kind].has(target)) return;
    const known = [...ws[kind].keys()];
    const p = located(
      entry.parsed,
      path,
      `${kind.slice(0, -1)} "${target}" does not exist, expected one of: ${known.length ? known.join(', ') : `(none in ${kind}/)`}`,
    );
    problems.push(p);
  };
  for (const image of ws.images.values()) {
    ref(image, ['pin'], 'pins', image.value.pin);
    image.value.extraPins.forEach((extra, i) => {
      ref(image, ['extraPins', i, 'pin'], 'pins', extra.pin);
    });
    const fhs = image.value.fhs;
    if (fhs) {
      const all = [...image.value.packages, ...image.value.extraPins.flatMap((e) => e.packages)];
      if (!all.includes(fhs.package)) {
        problems.push(
          located(
            image.parsed,
            ['fhs', 'package'],
            `fhs.package "${fhs.package}" is not in packages, expected one of: ${all.join(', ')}`,
          ),
        );
      }
    }
  }
  for (const board of ws.boards.values()) {
    ref(board, ['image'], 'images', board.value.image);
    const src = board.value.source;
    if (src.type === 'local') {
      const dir = resolve(ws.root, src.path);
      if (!existsSync(dir)) {
        problems.push(
          located(
            board.parsed,
            ['source', 'path'],
            `source folder "${src.path}" does not exist, expected a folder relative to the workspace`,
          ),
        );
      }
    }
  }
  return problems;
}
