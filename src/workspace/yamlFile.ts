/**
 * Reads one YAML file into a value plus a way to map a path inside it back to
 * FILE:LINE:COL. All positions come from the parsed document, never guessed.
 */
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
} from 'yaml';
import type { Problem } from '../util/errors.js';

/** Larger workspace files are refused before parsing: they are mistakes or attacks. */
export const MAX_FILE_BYTES = 1024 * 1024;
const MAX_ALIASES = 100;

export type PathKey = string | number;

export interface ParsedYaml {
  file: string;
  doc: Document.Parsed;
  value: unknown;
  /** Position of the value at `path` (or of its closest existing parent). */
  at(path: readonly PathKey[]): { line: number; col: number };
  /** Position of the key `key` in the mapping at `path`. */
  keyAt(path: readonly PathKey[], key: string): { line: number; col: number };
}

export type ParseResult = { ok: true; parsed: ParsedYaml } | { ok: false; problems: Problem[] };

function problem(file: string, line: number, col: number, message: string): Problem {
  return { file, line, col, message };
}

export function parseYamlFile(file: string, bytes: Buffer): ParseResult {
  if (bytes.length > MAX_FILE_BYTES) {
    return {
      ok: false,
      problems: [
        problem(file, 1, 1, `file is ${bytes.length} bytes, expected at most ${MAX_FILE_BYTES} bytes`),
      ],
    };
  }
  const nul = bytes.indexOf(0);
  const lineCounter = new LineCounter();
  if (nul >= 0) {
    const before = bytes.subarray(0, nul).toString('utf8');
    const line = before.split('\n').length;
    const col = before.length - before.lastIndexOf('\n');
    return {
      ok: false,
      problems: [problem(file, line, col, 'file contains a NUL byte, expected UTF-8 text')],
    };
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad !== undefined) {
    return {
      ok: false,
      problems: [problem(file, bad.line, bad.col, 'file is not valid UTF-8, expected UTF-8 text')],
    };
  }
  const text = bytes.toString('utf8');
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const errors = [...doc.errors];
  if (errors.length > 0) {
    return {
      ok: false,
      problems: errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return problem(file, pos.line, pos.col, yamlMessage(e.code, e.message));
      }),
    };
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return { ok: false, problems: [problem(file, 1, 1, 'file is empty, expected a YAML mapping')] };
  }
  if (!isMap(doc.contents)) {
    const pos = posOf(lineCounter, doc.contents);
    return {
      ok: false,
      problems: [
        problem(file, pos.line, pos.col, 'the top level is not a mapping, expected "key: value" lines'),
      ],
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    const alias = firstAliasPos(text, lineCounter);
    const reason =
      err instanceof Error && /alias/i.test(err.message) ? 'too many alias expansions' : 'unreadable';
    return {
      ok: false,
      problems: [
        problem(
          file,
          alias.line,
          alias.col,
          `${reason}, expected a document without alias bombs (at most ${MAX_ALIASES})`,
        ),
      ],
    };
  }
  const root = doc.contents;
  const at = (path: readonly PathKey[]) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) return posOf(lineCounter, node);
    }
    return posOf(lineCounter, root);
  };
  const keyAt = (path: readonly PathKey[], key: string) => {
    const container = path.length === 0 ? root : doc.getIn(path, true);
    if (isMap(container)) {
      const pair = container.items.find(
        (p: Pair) => isPair(p) && isScalar(p.key) && String(p.key.value) === key,
      );
      if (pair && isScalar(pair.key)) return posOf(lineCounter, pair.key);
    }
    return at(path);
  };
  return { ok: true, parsed: { file, doc, value, at, keyAt } };
}

function posOf(lc: LineCounter, node: { range?: [number, number, number] | null | undefined }) {
  const offset = node.range?.[0] ?? 0;
  return lc.linePos(offset);
}

function firstAliasPos(text: string, lc: LineCounter) {
  const m = /(^|[\s[{,:-])\*[^\s,\]}]+/.exec(text);
  return lc.linePos(m ? m.index + m[1]!.length : 0);
}

function yamlMessage(code: string, message: string): string {
  const first = (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
  if (code === 'DUPLICATE_KEY') return 'duplicate key, expected each key once in a mapping';
  return `invalid YAML (${first.replace(/[.:]\s*$/, '')}), expected valid YAML syntax`;
}

function firstInvalidUtf8(bytes: Buffer): { line: number; col: number } | undefined {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return undefined;
  } catch {
    // Walk to the first byte the decoder rejects; files are at most 1 MiB so this is cheap.
    let line = 1;
    let col = 1;
    for (let i = 0; i < bytes.length; ) {
      const b = bytes[i]!;
      const len =
        b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
      const valid =
        len > 0 &&
        i + len <= bytes.length &&
        bytes.subarray(i + 1, i + len).every((c) => (c & 0xc0) === 0x80) &&
        (len === 1 ||
          new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(i, i + len)) !== '\uFFFD');
      if (!valid) return { line, col };
      if (b === 0x0a) {
        line++;
        col = 1;
      } else col++;
      i += len;
    }
    return { line, col };
  }
}
