/**
 * Layers point one way. The order of the folders is data: the table in
 * docs/architecture.md, bottom first. A file may import its own folder and the folders
 * on lower rows only; no two files may import each other, directly or round a circle.
 * Read from the real source files, every form of import included (`import type` too:
 * a type-only circle still ties two modules into one).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const src = join(repoRoot, 'src');
const architecture = join(repoRoot, 'docs', 'architecture.md');
const TABLE_MARK = '<!-- layers: bottom first; read by test/unit/layering.test.ts -->';

/**
 * Circles allowed while another piece of work removes them (none today). The test below
 * fails once a listed circle is gone, so the list cannot hide a new one.
 */
const KNOWN_CYCLES: readonly string[] = [];

interface SourceFile {
  path: string;
  text: string;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Relative specifiers of `import … from`, `export … from`, `import('…')` and `import type`. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const m of text.matchAll(pattern)) if (m[1]) found.push(m[1]);
  return found;
}

/** The rows of the layer table (bottom first), each the folders named on it. */
function parseLayers(markdown: string): string[][] {
  const start = markdown.indexOf(TABLE_MARK);
  if (start === -1) throw new Error(`docs/architecture.md has no line ${TABLE_MARK}`);
  const lines = markdown
    .slice(start + TABLE_MARK.length)
    .trimStart()
    .split('\n');
  const rows: string[][] = [];
  for (const line of lines.slice(2)) {
    if (!line.startsWith('|')) break;
    const folders = line.split('|')[2] ?? '';
    rows.push([...folders.matchAll(/`([a-z0-9-]+)\/`/g)].map((m) => m[1] as string));
  }
  return rows;
}

/** src-relative path of a file, with "/" separators. */
const rel = (path: string) => relative(src, path).split(sep).join('/');
const folderOf = (srcRel: string) => (srcRel.includes('/') ? srcRel.slice(0, srcRel.indexOf('/')) : '');

/** Imports that go up or sideways across the table, or into or from a folder it does not list. */
function layerViolations(files: readonly SourceFile[], layers: readonly string[][]): string[] {
  const rank = new Map(layers.flatMap((row, i) => row.map((folder) => [folder, i] as const)));
  const bad: string[] = [];
  for (const f of files) {
    const from = folderOf(rel(f.path));
    for (const spec of importsOf(f.text)) {
      const target = rel(resolve(dirname(f.path), spec));
      if (target.startsWith('..')) continue; // package.json and the like: not a layer
      const to = folderOf(target);
      if (to === from) continue;
      const [a, b] = [rank.get(from), rank.get(to)];
      const where = `src/${rel(f.path)} imports ${spec}`;
      if (a === undefined || b === undefined)
        bad.push(`${where}: ${a === undefined ? from || 'src/' : to || 'src/'} is not in the layer table`);
      else if (b > a) bad.push(`${where}: up from ${from}/ (layer ${a + 1}) to ${to}/ (layer ${b + 1})`);
      else if (b === a) bad.push(`${where}: sideways between ${from}/ and ${to}/ (both layer ${a + 1})`);
    }
  }
  return bad;
}

/** Every circle of files importing each other (strongly connected groups of 2+ files), names sorted. */
function importCycles(files: readonly SourceFile[]): string[] {
  const known = new Set(files.map((f) => rel(f.path)));
  const edges = new Map<string, string[]>();
  for (const f of files) {
    const targets = importsOf(f.text)
      .map((spec) => rel(resolve(dirname(f.path), spec)).replace(/\.js$/, '.ts'))
      .filter((t) => known.has(t));
    edges.set(rel(f.path), targets);
  }
  // Tarjan's strongly connected components; recursion is fine for a few hundred files.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) cycles.push(group.sort().join(' '));
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles.sort();
}

/** Files outside src/cli/ that import something inside it. */
function cliImportsFromBelow(files: readonly SourceFile[]): string[] {
  const cli = join(src, 'cli');
  const bad: string[] = [];
  for (const f of files) {
    if (!relative(cli, f.path).startsWith('..')) continue;
    for (const spec of importsOf(f.text)) {
      const target = resolve(dirname(f.path), spec);
      if (!relative(cli, target).startsWith('..')) bad.push(`${relative(repoRoot, f.path)} imports ${spec}`);
    }
  }
  return bad;
}

const planted = (srcRel: string, text: string): SourceFile => ({
  path: join(src, ...srcRel.split('/')),
  text,
});

describe('layering', () => {
  const files = tsFiles(src).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
  const layers = parseLayers(readFileSync(architecture, 'utf8'));
  const tabled = layers.flat();

  it('finds every form of import (the check would be blind otherwise)', () => {
    const text = [
      "import { a } from '../cli/x.js';",
      "import type { B } from '../../cli/y.js';",
      "export { c } from './cli/z.js';",
      "const d = await import('../cli/w.js');",
      "import '../cli/side-effect.js';",
      "import {\n  e,\n  f,\n} from '../cli/multi.js';",
    ].join('\n');
    expect(importsOf(text)).toEqual([
      '../cli/x.js',
      '../../cli/y.js',
      './cli/z.js',
      '../cli/w.js',
      '../cli/side-effect.js',
      '../cli/multi.js',
    ]);
  });

  it('the table in docs/architecture.md names every folder under src/ once, and nothing else', () => {
    const folders = readdirSync(src, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(layers.length).toBeGreaterThan(5);
    expect(layers.every((row) => row.length > 0)).toBe(true);
    expect([...tabled].sort()).toEqual(folders);
    expect(new Set(tabled).size).toBe(tabled.length);
    expect(layers.at(-1)).toEqual(['cli']);
  });

  it('fails on a planted upward or sideways import in every folder pair, and passes a downward one', () => {
    const rank = new Map(layers.flatMap((row, i) => row.map((folder) => [folder, i] as const)));
    let checked = 0;
    for (const from of tabled) {
      for (const to of tabled) {
        if (from === to) continue;
        const file = planted(`${from}/planted.ts`, `import { x } from '../${to}/target.js';`);
        const found = layerViolations([file], layers);
        const allowed = (rank.get(to) as number) < (rank.get(from) as number);
        expect(found, `${from}/ → ${to}/`).toHaveLength(allowed ? 0 : 1);
        checked++;
      }
    }
    expect(checked).toBe(tabled.length * (tabled.length - 1));
    expect(
      layerViolations([planted('workspace/schema.ts', "import { V } from '../plan/variations.js';")], layers),
    ).toEqual([
      'src/workspace/schema.ts imports ../plan/variations.js: up from workspace/ (layer 4) to plan/ (layer 5)',
    ]);
    expect(
      layerViolations([planted('image/a.ts', "import type { H } from '../hashes/b.js';")], layers),
    ).toEqual(['src/image/a.ts imports ../hashes/b.js: sideways between image/ and hashes/ (both layer 4)']);
  });

  it('fails on an import into or from a folder the table does not list', () => {
    expect(layerViolations([planted('runs/a.ts', "import { x } from '../pipeline/b.js';")], layers)).toEqual([
      'src/runs/a.ts imports ../pipeline/b.js: pipeline is not in the layer table',
    ]);
    expect(
      layerViolations([planted('newthing/a.ts', "import { x } from '../util/errors.js';")], layers),
    ).toEqual(['src/newthing/a.ts imports ../util/errors.js: newthing is not in the layer table']);
  });

  it('no import goes up or sideways across the layer table', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(layerViolations(files, layers)).toEqual([]);
  });

  it('fails on a planted two-file cycle, a type-only one and a longer circle', () => {
    const a = planted('hashes/planted-a.ts', "import { b } from './planted-b.js';");
    const b = planted('hashes/planted-b.ts', "import type { A } from './planted-a.js';");
    expect(importCycles([a, b])).toEqual(['hashes/planted-a.ts hashes/planted-b.ts']);
    const x = planted('runs/x.ts', "import { y } from './y.js';");
    const y = planted('runs/y.ts', "export { z } from './z.js';");
    const z = planted('runs/z.ts', "const x = await import('./x.js');");
    expect(importCycles([x, y, z])).toEqual(['runs/x.ts runs/y.ts runs/z.ts']);
    expect(importCycles([x, y])).toEqual([]);
  });

  it('no two files import each other, directly or round a circle', () => {
    const cycles = importCycles(files);
    expect(cycles.filter((c) => !KNOWN_CYCLES.includes(c))).toEqual([]);
    // An allowed circle that is gone must leave the list too, so the list cannot hide a new one.
    expect(KNOWN_CYCLES.filter((c) => !cycles.includes(c))).toEqual([]);
  });

  it('fails for a file outside src/cli/ that imports it', () => {
    const file = planted('runs/planted.ts', "import { x } from '../cli/output.js';");
    expect(cliImportsFromBelow([file])).toEqual(['src/runs/planted.ts imports ../cli/output.js']);
  });

  it('nothing outside src/cli/ imports src/cli/', () => {
    expect(cliImportsFromBelow(files)).toEqual([]);
  });

  it('the entry point and the command modules do not import each other', () => {
    const main = join(src, 'cli', 'main.ts');
    const back = files
      .filter((f) => f.path.startsWith(join(src, 'cli', 'commands')))
      .filter((f) =>
        importsOf(f.text).some((s) => resolve(dirname(f.path), s) === main.replace(/\.ts$/, '.js')),
      );
    expect(back.map((f) => relative(repoRoot, f.path))).toEqual([]);
  });
});
