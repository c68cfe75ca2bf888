/**
 * Positions for FILE:LINE:COL messages come from the parsed YAML document (yamlFile.ts).
 * Checked against the file's own text: at every value and key of the default workspace
 * and the good fixture, the reported line and column is where that scalar is written;
 * and a few hand-checked answers for paths that are not there, sequence indexes and
 * layouts the files do not use.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PathKey, Position } from '../../src/workspace/types.js';
import { type ParsedYaml, parseYamlFile } from '../../src/workspace/yamlFile.js';
import { repoRoot } from '../helpers/cli.js';

function parse(file: string, text: string): ParsedYaml {
  const r = parseYamlFile(file, Buffer.from(text));
  if (!r.ok) throw new Error(`${file} does not parse: ${JSON.stringify(r.problems)}`);
  return r.parsed;
}

function workspaceFiles(root: string): string[] {
  return ['pins', 'images', 'boards'].flatMap((kind) =>
    readdirSync(join(root, kind))
      .filter((name) => /\.ya?ml$/.test(name))
      .map((name) => join(root, kind, name)),
  );
}

/** The text written at a position (1-based line and column). */
function textAt(text: string, { line, col }: Position): string {
  return (text.split('\n')[line - 1] ?? '').slice(col - 1);
}

/** Every scalar leaf and every mapping key, with the path that names it. */
function leaves(
  value: unknown,
  path: PathKey[] = [],
): Array<{ path: PathKey[]; key?: string; scalar?: unknown }> {
  if (Array.isArray(value)) return value.flatMap((item, i) => leaves(item, [...path, i]));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [{ path, key: k }, ...leaves(v, [...path, k])]);
  return [{ path, scalar: value }];
}

describe('workspace positions are where the file writes them', () => {
  const files = [...workspaceFiles(repoRoot), ...workspaceFiles(join(repoRoot, 'test', 'fixtures', 'good'))];

  it('every value and key of the default workspace and the good fixture', () => {
    let checked = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const parsed = parse(file, text);
      for (const leaf of leaves(parsed.value)) {
        if (leaf.key !== undefined) {
          const where = textAt(text, parsed.keyAt(leaf.path, leaf.key));
          expect(where, `${file} key ${leaf.key} in ${leaf.path.join('.')}`).toMatch(
            new RegExp(`^["']?${leaf.key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*:`),
          );
        } else {
          const where = textAt(text, parsed.at(leaf.path));
          const written = String(leaf.scalar);
          // A block scalar (`|`, `>`) starts at its indicator; other values start with their text.
          const first = written.split('\n')[0] ?? '';
          expect(
            where.startsWith(first) || /^["'|>]/.test(where),
            `${file} at ${leaf.path.join('.')}: "${where}" should start with "${first}"`,
          ).toBe(true);
        }
        checked++;
      }
    }
    expect(files.length).toBeGreaterThan(8);
    expect(checked).toBeGreaterThan(100);
  });

  it('a board file: values, sequence items by number or digits, keys, and paths that are not there', () => {
    const file = join(repoRoot, 'boards', 'seabios-qemu-naive.yaml');
    const parsed = parse(file, readFileSync(file, 'utf8'));
    expect(parsed.at(['image'])).toEqual({ line: 5, col: 8 });
    expect(parsed.at(['source', 'sha256', 'seabios_1.16.2-1.dsc'])).toEqual({ line: 12, col: 27 });
    expect(parsed.at(['commands', 0])).toEqual({ line: 16, col: 5 });
    expect(parsed.at(['commands', '0'])).toEqual({ line: 16, col: 5 });
    expect(parsed.keyAt(['source'], 'package')).toEqual({ line: 9, col: 3 });
    // Not there: the closest existing parent (for keyAt, the mapping itself).
    expect(parsed.at(['source', 'absent', 'deeper'])).toEqual({ line: 7, col: 3 });
    expect(parsed.at(['commands', 5])).toEqual({ line: 16, col: 3 });
    expect(parsed.at(['absent'])).toEqual({ line: 4, col: 1 });
    expect(parsed.keyAt(['source'], 'absent')).toEqual({ line: 7, col: 3 });
  });

  it('layouts the workspace files do not use: flow style, numeric keys, anchors', () => {
    const parsed = parse('f.yaml', 'a: { b: [1, { c: d }] }\n1: one\nbase: &b { x: 1 }\nuse: *b\n');
    expect(parsed.at(['a', 'b', 1, 'c'])).toEqual({ line: 1, col: 18 });
    expect(parsed.keyAt(['a', 'b', 1], 'c')).toEqual({ line: 1, col: 15 });
    // A mapping key matches only its own type (yaml's getIn): the string "1" is not the number 1.
    expect(parsed.at([1])).toEqual({ line: 2, col: 4 });
    expect(parsed.at(['1'])).toEqual({ line: 1, col: 1 });
    expect(parsed.keyAt([], '1')).toEqual({ line: 2, col: 1 });
    expect(parsed.at(['base', 'x'])).toEqual({ line: 3, col: 15 });
  });
});
