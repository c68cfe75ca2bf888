/**
 * Layers point one way: the CLI wires commands to the domain, and nothing below it
 * imports it back. Read from the real source files, every form of import included.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const src = join(repoRoot, 'src');

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

/** Files outside src/cli/ that import something inside it. */
function cliImportsFromBelow(files: ReadonlyArray<{ path: string; text: string }>): string[] {
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

describe('layering', () => {
  const files = tsFiles(src).map((path) => ({ path, text: readFileSync(path, 'utf8') }));

  it('finds every form of import (the check would be blind otherwise)', () => {
    const text = [
      "import { a } from '../cli/x.js';",
      "import type { B } from '../../cli/y.js';",
      "export { c } from './cli/z.js';",
      "const d = await import('../cli/w.js');",
      "import '../cli/side-effect.js';",
    ].join('\n');
    expect(importsOf(text)).toEqual([
      '../cli/x.js',
      '../../cli/y.js',
      './cli/z.js',
      '../cli/w.js',
      '../cli/side-effect.js',
    ]);
  });

  it('fails for a file outside src/cli/ that imports it', () => {
    const planted = { path: join(src, 'runs', 'planted.ts'), text: "import { x } from '../cli/output.js';" };
    expect(cliImportsFromBelow([planted])).toEqual(['src/runs/planted.ts imports ../cli/output.js']);
  });

  it('nothing outside src/cli/ imports src/cli/', () => {
    expect(files.length).toBeGreaterThan(50);
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
