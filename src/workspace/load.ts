/**
 * Loads and validates a whole workspace (pins/, images/, boards/): every file,
 * every reference, every problem reported at once with its position.
 * Nothing here writes: checking a workspace leaves it exactly as it was.
 */
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type * as z from 'zod/mini';
import { ConfigError, type Problem, UsageError } from '../util/errors.js';
import { parseFlakeRef } from './flakeRef.js';
import {
  type Board,
  type ImageDef,
  NAME_PATTERN,
  type Pin,
  type WorkspaceKind,
  workspaceKinds,
} from './schema.js';
import { allowedKeys, closestKey } from './schemaKeys.js';
import { MAX_FILE_BYTES, type ParsedYaml, type PathKey, parseYamlFile } from './yamlFile.js';

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
/** A file with hundreds of mistakes is the wrong file: list the first ones, not a screenful per key. */
export const MAX_PROBLEMS_PER_FILE = 50;

export async function loadWorkspace(rootDir: string): Promise<LoadResult> {
  const root = resolve(rootDir);
  assertWorkspaceFolder(rootDir, root);
  const problems: Problem[] = [];
  const workspace: Workspace = { root, pins: new Map(), images: new Map(), boards: new Map() };
  // Files that exist but are invalid: references to them are not reported again as dangling.
  const invalid: Record<WorkspaceKind, Set<string>> = {
    pins: new Set(),
    images: new Set(),
    boards: new Set(),
  };
  // Folders that could not be listed: references into them are not reported as dangling either.
  const unlisted = new Set<WorkspaceKind>();
  let files = 0;
  for (const kind of KINDS) {
    const dir = join(root, kind);
    if (!existsSync(dir)) continue;
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (err) {
      unlisted.add(kind);
      problems.push({
        file: displayPath(dir),
        line: 1,
        col: 1,
        message: `cannot list ${kind}/ (${errnoText(err)}), expected a folder of .yaml files`,
      });
      continue;
    }
    for (const fileName of names) {
      if (!/\.ya?ml$/.test(fileName)) continue;
      const full = join(dir, fileName);
      const file = displayPath(full);
      let bytes: Buffer;
      try {
        const info = await stat(full);
        if (!info.isFile()) continue;
        // Never read a huge file into memory just to refuse it.
        if (info.size > MAX_FILE_BYTES) {
          files++;
          problems.push({
            file,
            line: 1,
            col: 1,
            message: `file is ${info.size} bytes, expected at most ${MAX_FILE_BYTES} bytes`,
          });
          invalid[kind].add(fileName.replace(/\.ya?ml$/, ''));
          continue;
        }
        bytes = await readFile(full);
      } catch (err) {
        problems.push({
          file,
          line: 1,
          col: 1,
          message: `cannot read this file (${errnoText(err)}), expected a readable YAML file`,
        });
        continue;
      }
      files++;
      const name = fileName.replace(/\.ya?ml$/, '');
      if (!NAME_PATTERN.test(name)) {
        problems.push({
          file,
          line: 1,
          col: 1,
          message: `file name ${JSON.stringify(name)} is not a valid ${kind.slice(0, -1)} name, expected lowercase letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)`,
        });
        continue;
      }
      const result = parseYamlFile(file, bytes);
      if (!result.ok) {
        problems.push(...capped(result.problems));
        invalid[kind].add(name);
        continue;
      }
      const checked = validate(kind, name, result.parsed);
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
  problems.push(...checkReferences(workspace, invalid, unlisted));
  return { workspace, problems: problems.map(oneLine), files };
}

/** Load, and throw one ConfigError listing every problem if there are any. */
export async function loadValidWorkspace(rootDir: string): Promise<Workspace> {
  const { workspace, problems } = await loadWorkspace(rootDir);
  if (problems.length > 0) throw new ConfigError(problems, 'fix the files above, then run `reprorom check`');
  return workspace;
}

/** A missing workspace folder is a usage mistake (wrong --workspace), not an empty, valid workspace. */
function assertWorkspaceFolder(given: string, root: string): void {
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    throw new UsageError(
      `workspace folder "${given}" does not exist`,
      'pass --workspace DIR pointing at the folder that holds pins/, images/ and boards/',
    );
  }
  if (!isDir)
    throw new UsageError(
      `workspace "${given}" is not a folder`,
      'pass --workspace DIR pointing at the folder that holds pins/, images/ and boards/',
    );
}

/** Paths are printed relative to where the user runs the command, as compilers do. */
function displayPath(full: string): string {
  return relative(process.cwd(), full) || full;
}

function errnoText(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const known: Record<string, string> = {
    ENOENT: 'a broken symbolic link',
    ELOOP: 'a symbolic link loop',
    EACCES: 'permission denied',
    ENOTDIR: 'not a folder',
    EISDIR: 'a folder',
  };
  if (typeof code === 'string') return known[code] ?? code;
  return err instanceof Error ? (err.message.split('\n')[0] ?? 'unknown error') : String(err);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/g;
const NAMED_CONTROL: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Control characters (a newline in a key or file name) must not break the one-line format. */
function oneLine(p: Problem): Problem {
  const clean = (s: string) =>
    s.replace(CONTROL, (c) => NAMED_CONTROL[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return { ...p, file: clean(p.file), message: clean(p.message) };
}

function capped(problems: Problem[]): Problem[] {
  if (problems.length <= MAX_PROBLEMS_PER_FILE) return problems;
  const shown = problems.slice(0, MAX_PROBLEMS_PER_FILE);
  return [...shown, moreProblems(problems[MAX_PROBLEMS_PER_FILE]!, problems.length - MAX_PROBLEMS_PER_FILE)];
}

/** The closing line of a capped list, placed at the first problem not listed. */
function moreProblems(next: Problem, rest: number): Problem {
  return {
    ...next,
    message: `${rest} more problem(s) in this file not listed, expected the ${MAX_PROBLEMS_PER_FILE} above to be fixed first`,
  };
}

function validate(
  kind: WorkspaceKind,
  name: string,
  parsed: ParsedYaml,
): { value: unknown; problems: Problem[] } {
  const schema = workspaceKinds[kind] as z.ZodMiniType;
  const result = schema.safeParse(parsed.value);
  let problems: Problem[] = [];
  if (!result.success) {
    // One unit per reported key, and only the first few located: finding a key's
    // position is a scan, and a hostile file may hold a hundred thousand of them.
    const units = result.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ issue: { ...issue, keys: [key] } as z.core.$ZodIssue }))
        : [{ issue }],
    );
    const located = units.slice(0, MAX_PROBLEMS_PER_FILE + 1);
    problems = located.flatMap((u) =>
      issueProblems(schema, parsed, u.issue).map((p) => withPinName(p, name)),
    );
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    if (units.length > MAX_PROBLEMS_PER_FILE) {
      const next = problems[MAX_PROBLEMS_PER_FILE]!;
      problems = problems.slice(0, MAX_PROBLEMS_PER_FILE);
      problems.push(moreProblems(next, units.length - MAX_PROBLEMS_PER_FILE));
    }
  } else if (kind === 'pins') {
    const pin = result.data as Pin;
    const ref = parseFlakeRef(pin.flake, name);
    if (!ref.ok) problems.push(located(parsed, ['flake'], ref.message));
  }
  return { value: result.success && problems.length === 0 ? result.data : undefined, problems };
}

/** The schema's advice says `reprorom pin lock NAME`; here the name is known. */
function withPinName(p: Problem, name: string): Problem {
  return { ...p, message: p.message.replace('reprorom pin lock NAME', `reprorom pin lock ${name}`) };
}

function located(parsed: ParsedYaml, path: readonly PathKey[], message: string): Problem {
  const { line, col } = parsed.at(path);
  return { file: parsed.file, line, col, message };
}

function issueProblems(schema: z.ZodMiniType, parsed: ParsedYaml, issue: z.core.$ZodIssue): Problem[] {
  const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
  const where = path.length > 0 ? `${path.join('.')}: ` : '';
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(schema, path, parsed.value);
    return issue.keys.map((key) => {
      const { line, col } = parsed.keyAt(path, key);
      if (key === '<<')
        return {
          file: parsed.file,
          line,
          col,
          message: 'merge key "<<" is not supported (YAML 1.2), expected the keys written out in full',
        };
      const guess = closestKey(key, allowed);
      const hint = guess ? ` (did you mean "${guess}"?)` : '';
      const expected =
        allowed.length > 0 ? `expected one of: ${allowed.join(', ')}` : 'expected no other keys';
      const inside = path.length > 0 ? ` in ${path.join('.')}` : '';
      return { file: parsed.file, line, col, message: `unknown key "${key}"${inside}${hint}, ${expected}` };
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
  const absent = path.length > 0 && !parsed.doc.hasIn(path);
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && absent) {
    const key = path[path.length - 1];
    const parent = path.slice(0, -1);
    const { line, col } = parsed.at(parent);
    const inside = parent.length > 0 ? ` in ${parent.join('.')}` : '';
    return [
      {
        file: parsed.file,
        line,
        col,
        message: `missing key "${String(key)}"${inside}, ${expectation(issue)}`,
      },
    ];
  }
  return [located(parsed, path, `${where}${expectation(issue)}${quotedNumberHint(parsed, path, issue)}`)];
}

/** `uid: "1000"` is a string in YAML; say so, since the file looks right at a glance. */
function quotedNumberHint(parsed: ParsedYaml, path: readonly PathKey[], issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_type' || (issue.expected !== 'number' && issue.expected !== 'int')) return '';
  const value = parsed.doc.getIn(path);
  return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
    ? ' (write it without quotes)'
    : '';
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
  if (issue.code === 'too_small' && issue.origin === 'string')
    return msg.startsWith('expected') ? msg : 'expected a non-empty string';
  if (issue.code === 'too_small') return `expected at least ${issue.minimum}`;
  if (issue.code === 'too_big') return `expected at most ${issue.maximum}`;
  if (issue.code === 'invalid_union')
    return msg.startsWith('expected') ? msg : 'expected one of the documented forms';
  return msg.startsWith('expected') ? msg : `expected ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`;
}

function checkReferences(
  ws: Workspace,
  invalid: Record<WorkspaceKind, Set<string>>,
  unlisted: ReadonlySet<WorkspaceKind>,
): Problem[] {
  const problems: Problem[] = [];
  const ref = (entry: Entry<unknown>, path: PathKey[], kind: 'pins' | 'images', target: string) => {
    if (ws[kind].has(target) || invalid[kind].has(target) || unlisted.has(kind)) return;
    const known = [...ws[kind].keys()];
    const p = located(
      entry.parsed,
      path,
      `${kind.slice(0, -1)} "${target}" does not exist, expected one of: ${known.length ? known.join(', ') : `(none in ${kind}/)`}`,
    );
    problems.push(p);
  };
  for (const pin of ws.pins.values()) {
    const parsed = parseFlakeRef(pin.value.flake, pin.name);
    if (parsed.ok && parsed.ref.kind === 'path') {
      const dir = resolve(ws.root, parsed.ref.path);
      if (!existsSync(join(dir, 'flake.nix'))) {
        const what = existsSync(dir) ? 'has no flake.nix' : 'does not exist';
        problems.push(
          located(
            pin.parsed,
            ['flake'],
            `flake folder "${parsed.ref.path}" ${what}, expected a folder with flake.nix relative to the workspace`,
          ),
        );
      }
    }
  }
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
    if (src.type === 'local') problems.push(...localSourceProblems(ws.root, board, src.path));
  }
  return problems;
}

function localSourceProblems(root: string, board: Entry<Board>, path: string): Problem[] {
  const at = (message: string) => [located(board.parsed, ['source', 'path'], message)];
  // An absolute path names one machine's folders: the build would not be the same elsewhere.
  if (isAbsolute(path))
    return at(`source folder "${path}" is an absolute path, expected a folder relative to the workspace`);
  const dir = resolve(root, path);
  // The workspace is what gets pinned and shared: a source beside it would not travel with it.
  const inside = relative(root, dir);
  if (inside === '..' || inside.startsWith(`..${sep}`))
    return at(
      `source folder "${path}" is outside the workspace, expected a folder relative to the workspace`,
    );
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    return at(`source folder "${path}" does not exist, expected a folder relative to the workspace`);
  }
  if (!isDir) return at(`source "${path}" is a file, expected a folder relative to the workspace`);
  return [];
}
