/**
 * Positions are kept as a tree (located.ts), fresh or cached, instead of the YAML document.
 * Every answer the tree gives must be the document's own, as yaml's `getIn` finds it:
 * checked on every fixture file that parses, for every path in it and for paths that are
 * not there, after a JSON round trip (that is how the tree is stored).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, isPair, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import {
  locatedFromTree,
  type PathKey,
  type Position,
  type PositionTree,
} from '../../src/workspace/located.js';
import { type ParsedYaml, parseYamlFile } from '../../src/workspace/yamlFile.js';
import { repoRoot } from '../helpers/cli.js';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(name) ? [full] : [];
  });
}

/** Every path the document has, plus siblings that do not exist, written as callers write them. */
function probes(value: unknown, path: PathKey[] = []): PathKey[][] {
  const out: PathKey[][] = [path, [...path, 'absent'], [...path, 99]];
  if (Array.isArray(value))
    value.forEach((item, i) => {
      out.push(...probes(item, [...path, i]), [...path, String(i)]);
    });
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) out.push(...probes(v, [...path, k]));
  return out;
}

function keyProbes(value: unknown, path: PathKey[] = []): Array<[PathKey[], string]> {
  if (value === null || typeof value !== 'object') return [[path, 'absent']];
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value);
  return [
    [path, 'absent'],
    ...entries.flatMap(
      ([k, v]): Array<[PathKey[], string]> => [
        [path, k],
        ...keyProbes(v, [...path, Array.isArray(value) ? Number(k) : k]),
      ],
    ),
  ];
}

/** The reference: positions straight from yaml's document (`getIn`), as the parser reads the file. */
function documentOf(text: string) {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, strict: true });
  const root = doc.contents as Node;
  const posOf = (node: Node): Position => lineCounter.linePos(node.range?.[0] ?? 0);
  const at = (path: readonly PathKey[]): Position => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) return posOf(node);
    }
    return posOf(root);
  };
  const keyAt = (path: readonly PathKey[], key: string): Position => {
    const container = path.length === 0 ? root : doc.getIn(path, true);
    if (isMap(container)) {
      const pair = container.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
      if (pair && isScalar(pair.key)) return posOf(pair.key);
    }
    return at(path);
  };
  return { at, keyAt };
}

function agree(parsed: ParsedYaml, text: string): number {
  const stored = JSON.parse(JSON.stringify(parsed.positions())) as PositionTree;
  const tree = locatedFromTree(parsed.file, stored);
  const doc = documentOf(text);
  let checked = 0;
  for (const path of probes(parsed.value)) {
    expect(tree.at(path), `${parsed.file} at ${JSON.stringify(path)}`).toEqual(doc.at(path));
    expect(parsed.at(path)).toEqual(doc.at(path));
    checked++;
  }
  for (const [path, key] of keyProbes(parsed.value)) {
    expect(tree.keyAt(path, key), `${parsed.file} keyAt ${JSON.stringify(path)} ${key}`).toEqual(
      doc.keyAt(path, key),
    );
    expect(parsed.keyAt(path, key)).toEqual(doc.keyAt(path, key));
    checked++;
  }
  return checked;
}

function parse(file: string, text: string | Buffer): ParsedYaml | undefined {
  const r = parseYamlFile(file, Buffer.isBuffer(text) ? text : Buffer.from(text));
  return r.ok ? r.parsed : undefined;
}

describe('stored positions answer as the document does', () => {
  it('for every fixture file that parses', () => {
    const files = [
      ...yamlFiles(join(repoRoot, 'test', 'fixtures')),
      ...['pins', 'images', 'boards'].flatMap((k) => yamlFiles(join(repoRoot, k))),
    ];
    let parsedFiles = 0;
    let checked = 0;
    for (const file of files) {
      const bytes = readFileSync(file);
      const parsed = parse(file, bytes);
      if (!parsed) continue;
      parsedFiles++;
      checked += agree(parsed, bytes.toString('utf8'));
    }
    expect(parsedFiles).toBeGreaterThan(150);
    expect(checked).toBeGreaterThan(5000);
  });

  it('for layouts the fixtures do not cover: flow style, numeric and boolean keys, empty values, anchors', () => {
    const docs = [
      'a: { b: [1, { c: d }], e: }\nf: [ [x, y], [] ]\n',
      '1: one\n"2": two\ntrue: yes\nnested:\n  - - deep\n    - { k: v }\n  -\n',
      'base: &b { x: 1 }\nuse: *b\nlist: [&i item, *i]\n',
      'block: |\n  text\n  more\nfolded: >-\n  a\n  b\nafter: 1\n',
      'seq:\n- a\n- b:\n    c: 1\n- [p: q]\n',
    ];
    for (const [i, text] of docs.entries()) {
      const parsed = parse(`case${i}.yaml`, text);
      expect(parsed, text).toBeDefined();
      if (parsed) agree(parsed, text);
    }
  });

  it('finds a key by its text, a sequence item by a number or a string of digits, as yaml does', () => {
    const parsed = parse('f.yaml', 'list:\n  - a\n  - b\n1: one\n')!;
    const tree = locatedFromTree('f.yaml', parsed.positions());
    expect(tree.at(['list', 1])).toEqual({ line: 3, col: 5 });
    expect(tree.at(['list', '1'])).toEqual({ line: 3, col: 5 });
    // A mapping key matches only its own type (yaml's getIn), so "1" falls back to the root.
    expect(tree.at([1])).toEqual({ line: 4, col: 4 });
    expect(tree.at(['1'])).toEqual(documentOf('list:\n  - a\n  - b\n1: one\n').at(['1']));
    expect(tree.keyAt([], '1')).toEqual({ line: 4, col: 1 });
  });
});
