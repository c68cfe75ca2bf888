/**
 * Reads one YAML file into a value plus a way to map a path inside it back to
 * FILE:LINE:COL. All positions come from the parsed document, never guessed.
 * Hostile input (huge, binary, alias bombs, deep nesting) becomes a located
 * problem, never an exception.
 */

import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isNode,
  isPair,
  isScalar,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  type Scalar,
} from 'yaml';
import type { Problem } from '../util/errors.js';
import { bytePosition, firstInvalidUtf8 } from '../util/utf8.js';
import { MAX_FILE_BYTES } from './files.js';
import type { Located, PathKey, Position } from './types.js';

export type { PathKey } from './types.js';

const MAX_ALIASES = 100;
/** Workspace files are a few levels deep; far deeper nesting only serves to exhaust the stack. */
export const MAX_DEPTH = 64;

export interface ParsedYaml extends Located {
  doc: Document.Parsed;
  value: unknown;
}

export type ParseResult = { ok: true; parsed: ParsedYaml } | { ok: false; problems: Problem[] };

function problem(file: string, line: number, col: number, message: string): Problem {
  return { file, line, col, message };
}

export function parseYamlFile(file: string, bytes: Buffer): ParseResult {
  try {
    return parseChecked(file, bytes);
  } catch (err) {
    // Last line of defence: whatever the yaml library throws becomes one located line, not a stack trace.
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return {
      ok: false,
      problems: [problem(file, 1, 1, `cannot read this file as YAML (${reason}), expected a YAML mapping`)],
    };
  }
}

/** The stages, each a function below: the bytes, the YAML syntax, the top level, the shape, the value. */
function parseChecked(file: string, bytes: Buffer): ParseResult {
  const byteProblem = bytesProblem(file, bytes);
  if (byteProblem) return failed(byteProblem);
  const lineCounter = new LineCounter();
  // The library's own duplicate-key check compares every pair of keys (quadratic: minutes for
  // a 1 MiB file of keys), so duplicates are found in the one linear walk below instead.
  const doc = parseDocument(bytes.toString('utf8'), {
    lineCounter,
    uniqueKeys: false,
    prettyErrors: false,
    strict: true,
  });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return problem(file, pos.line, pos.col, yamlMessage(e.code, e.message));
      }),
    };
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return failed(problem(file, 1, 1, 'file is empty, expected a YAML mapping'));
  }
  if (!isMap(doc.contents)) {
    const pos = posOf(lineCounter, doc.contents);
    return failed(
      problem(file, pos.line, pos.col, 'the top level is not a mapping, expected "key: value" lines'),
    );
  }
  const root = doc.contents;
  const shape = inspect(root);
  const problems = shapeProblems(file, lineCounter, shape);
  if (problems.length > 0) return { ok: false, problems };
  const value = toValue(file, lineCounter, doc, shape);
  if (!value.ok) return value;
  return { ok: true, parsed: { file, doc, value: value.value, ...locators(lineCounter, doc, root) } };
}

function failed(p: Problem): ParseResult {
  return { ok: false, problems: [p] };
}

/** Too big, a NUL byte, or not UTF-8: refused before the YAML library sees the text. */
function bytesProblem(file: string, bytes: Buffer): Problem | undefined {
  if (bytes.length > MAX_FILE_BYTES) {
    return problem(file, 1, 1, `file is ${bytes.length} bytes, expected at most ${MAX_FILE_BYTES} bytes`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const pos = bytePosition(bytes, nul);
    return problem(file, pos.line, pos.col, 'file contains a NUL byte, expected UTF-8 text');
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad !== undefined) {
    const pos = bytePosition(bytes, bad);
    return problem(file, pos.line, pos.col, 'file is not valid UTF-8, expected UTF-8 text');
  }
  return undefined;
}

/** Nesting too deep (alone), else duplicate and bad keys, dangling aliases and too many aliases, in file order. */
function shapeProblems(file: string, lineCounter: LineCounter, shape: Shape): Problem[] {
  if (shape.tooDeep) {
    const pos = posOf(lineCounter, shape.tooDeep);
    return [
      problem(
        file,
        pos.line,
        pos.col,
        `nested more than ${MAX_DEPTH} levels deep, expected a shallow mapping`,
      ),
    ];
  }
  const found: Problem[] = [];
  for (const key of shape.duplicateKeys) {
    const pos = posOf(lineCounter, key);
    found.push(
      problem(
        file,
        pos.line,
        pos.col,
        `duplicate key ${JSON.stringify(String(key.value))}, expected each key once in a mapping`,
      ),
    );
  }
  for (const key of shape.badKeys) {
    const pos = posOf(lineCounter, key);
    const what = isCollection(key) ? 'a list or mapping' : 'empty';
    found.push(problem(file, pos.line, pos.col, `key is ${what}, expected a plain name such as "packages"`));
  }
  for (const alias of unresolvedAliases(shape)) {
    const pos = posOf(lineCounter, alias);
    found.push(
      problem(
        file,
        pos.line,
        pos.col,
        `alias "*${alias.source}" refers to no anchor, expected "&${alias.source}" to be defined before it`,
      ),
    );
  }
  // Expanding aliases costs the yaml library a scan of the document per alias: cap their number.
  const extra = shape.aliases[MAX_ALIASES];
  if (extra) {
    const pos = posOf(lineCounter, extra);
    found.push(
      problem(
        file,
        pos.line,
        pos.col,
        `file uses ${shape.aliases.length} aliases, expected at most ${MAX_ALIASES}`,
      ),
    );
  }
  return found.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** The document as a plain value, alias expansions capped. */
function toValue(
  file: string,
  lineCounter: LineCounter,
  doc: Document.Parsed,
  shape: Shape,
): { ok: true; value: unknown } | { ok: false; problems: Problem[] } {
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_ALIASES }) };
  } catch (err) {
    const first = shape.aliases[0];
    const pos = first ? posOf(lineCounter, first) : { line: 1, col: 1 };
    const message =
      err instanceof Error && /alias/i.test(err.message)
        ? `too many alias expansions, expected a document without alias bombs (at most ${MAX_ALIASES})`
        : `cannot read this file as YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)}), expected a YAML mapping`;
    return { ok: false, problems: [problem(file, pos.line, pos.col, message)] };
  }
}

/** Positions straight from the document: yaml's own `getIn` walks it as callers name paths. */
function locators(lineCounter: LineCounter, doc: Document.Parsed, root: Node): Pick<Located, 'at' | 'keyAt'> {
  const at = (path: readonly PathKey[]): Position => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (isNode(node) && node.range) return posOf(lineCounter, node);
    }
    return posOf(lineCounter, root);
  };
  const keyAt = (path: readonly PathKey[], key: string): Position => {
    const container = path.length === 0 ? root : doc.getIn(path, true);
    if (isMap(container)) {
      const pair = container.items.find(
        (p: Pair) => isPair(p) && isScalar(p.key) && String(p.key.value) === key,
      );
      if (pair && isScalar(pair.key)) return posOf(lineCounter, pair.key);
    }
    return at(path);
  };
  return { at, keyAt };
}

interface Shape {
  /** First node found deeper than MAX_DEPTH. */
  tooDeep: Node | undefined;
  /** Keys that are collections or null: they cannot name a field. */
  badKeys: Node[];
  /** Second and later occurrences of a key in one mapping. */
  duplicateKeys: Scalar[];
  aliases: Array<Node & { source: string }>;
  /** Nodes carrying an anchor (&name). */
  anchored: Array<Node & { anchor?: string }>;
}

/** Aliases with no anchor of their name before them, found in one pass in file order. */
function unresolvedAliases(shape: Shape): Shape['aliases'] {
  const start = (n: Node) => n.range?.[0] ?? 0;
  const events = [
    ...shape.anchored.map((n) => ({ at: start(n), anchor: n.anchor, alias: undefined })),
    ...shape.aliases.map((n) => ({ at: start(n), anchor: undefined, alias: n })),
  ].sort((a, b) => a.at - b.at || (a.anchor === undefined ? 1 : -1));
  const defined = new Set<string>();
  const missing: Shape['aliases'] = [];
  for (const e of events) {
    if (e.anchor !== undefined) defined.add(e.anchor);
    else if (e.alias && !defined.has(e.alias.source)) missing.push(e.alias);
  }
  return missing;
}

/** One iterative walk (no recursion, so no stack to exhaust) over the node tree. */
function inspect(root: Node): Shape {
  const shape: Shape = { tooDeep: undefined, badKeys: [], duplicateKeys: [], aliases: [], anchored: [] };
  const stack: Array<{ node: unknown; depth: number }> = [{ node: root, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (isAlias(node)) {
      shape.aliases.push(node);
      continue;
    }
    if (isNode(node) && (node as { anchor?: string }).anchor) shape.anchored.push(node);
    if (!isCollection(node)) continue;
    if (depth > MAX_DEPTH) {
      shape.tooDeep ??= node;
      continue;
    }
    const seen = new Set<string>();
    for (const item of node.items as unknown[]) {
      if (isPair(item)) {
        const key = item.key as Node | null;
        if (key === null || isCollection(key) || (isScalar(key) && key.value === null)) {
          if (key && (key as Node).range) shape.badKeys.push(key);
        } else {
          // Keys that become the same object property are duplicates (1 and "1" alike).
          if (isScalar(key)) {
            const id = String(key.value);
            if (seen.has(id)) shape.duplicateKeys.push(key);
            seen.add(id);
          }
          stack.push({ node: key, depth: depth + 1 });
        }
        stack.push({ node: item.value, depth: depth + 1 });
      } else stack.push({ node: item, depth: depth + 1 });
    }
  }
  // Report in file order, whatever order the stack visited them in.
  const start = (n: Node) => n.range?.[0] ?? 0;
  shape.badKeys.sort((a, b) => start(a) - start(b));
  shape.duplicateKeys.sort((a, b) => start(a) - start(b));
  shape.aliases.sort((a, b) => start(a) - start(b));
  return shape;
}

function posOf(lc: LineCounter, node: { range?: [number, number, number] | null | undefined }) {
  const offset = node.range?.[0] ?? 0;
  return lc.linePos(offset);
}

function yamlMessage(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS')
    return 'file holds more than one YAML document (a second "---"), expected exactly one';
  const first = (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
  if (/call stack/i.test(first))
    return `nested too deeply to read, expected at most ${MAX_DEPTH} levels of nesting`;
  return `invalid YAML (${first.replace(/[.:]\s*$/, '')}), expected valid YAML syntax`;
}
