/**
 * Loads and validates a whole workspace (pins/, images/, boards/): every file,
 * every reference, every problem reported at once with its position.
 * Nothing here writes: checking a workspace leaves it exactly as it was.
 */
import { resolve } from 'node:path';
import type * as z from 'zod/mini';
import type { Problem } from '../util/errors.js';
import { bootArtifactProblems } from './bootArtifacts.js';
import { bootPatternProblems } from './bootPatterns.js';
import {
  assertWorkspaceFolder,
  invalidWorkspace,
  KINDS,
  oneLine,
  readWorkspaceFiles,
  type WorkspaceKind,
} from './files.js';
import { fileUrlProblems } from './fileUrls.js';
import { parseFlakeRef } from './flakeRef.js';
import { inputProblems } from './inputs.js';
import { checkReferences, located } from './references.js';
import { NAME_PATTERN, type Pin, workspaceKinds } from './schema.js';
import { allowedKeys, closestKey } from './schemaKeys.js';
import type { Entry, PathKey, Workspace } from './types.js';
import { type ParsedYaml, parseYamlFile } from './yamlFile.js';

export type { Entry, Workspace } from './types.js';

export interface LoadResult {
  workspace: Workspace;
  problems: Problem[];
  files: number;
}

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
  const { files: read, unlisted: unlistable } = await readWorkspaceFiles(root);
  let files = 0;
  for (const kind of KINDS) {
    const unlisted = unlistable.get(kind);
    if (unlisted) problems.push(unlisted);
    for (const f of read) {
      if (f.kind !== kind) continue;
      if (f.status === 'unreadable') {
        problems.push(f.problem);
        continue;
      }
      files++;
      if (f.status === 'too-large') {
        problems.push(f.problem);
        invalid[kind].add(f.name);
        continue;
      }
      const { name, file } = f;
      if (!NAME_PATTERN.test(name)) {
        problems.push({
          file,
          line: 1,
          col: 1,
          message: `file name ${JSON.stringify(name)} is not a valid ${kind.slice(0, -1)} name, expected lowercase letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)`,
        });
        continue;
      }
      const result = parseYamlFile(file, f.bytes);
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
      const entry: Entry<unknown> = { name, file, value: checked.value, parsed: result.parsed };
      target.set(name, entry);
    }
  }
  problems.push(...checkReferences(workspace, invalid, new Set(unlistable.keys())));
  problems.push(...inputProblems(workspace, invalid.boards));
  problems.push(...fileUrlProblems(workspace));
  problems.push(...bootArtifactProblems(workspace));
  problems.push(...(await bootPatternProblems(workspace)));
  return { workspace, problems: problems.map(oneLine), files };
}

/** Load, and throw one ConfigError listing every problem if there are any. */
export async function loadValidWorkspace(rootDir: string): Promise<Workspace> {
  const { workspace, problems } = await loadWorkspace(rootDir);
  if (problems.length > 0) throw invalidWorkspace(problems);
  return workspace;
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
