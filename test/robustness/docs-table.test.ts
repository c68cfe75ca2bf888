/**
 * docs/robustness.md promises one row per test. This keeps the promise: every
 * test of test/robustness has exactly one row naming it, every row naming a
 * robustness test names one that exists, and rows pointing elsewhere name a
 * test title found in that file.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

interface Row {
  file: string;
  name: string;
}

async function docRows(): Promise<Row[]> {
  const text = await readFile(join(repoRoot, 'docs/robustness.md'), 'utf8');
  const rows: Row[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| case ') || line.startsWith('| ---')) continue;
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    const test = cells[cells.length - 2] ?? '';
    const m = /^`([^`]+)` › (.+)$/.exec(test);
    expect(m, `row without a test: ${line}`).not.toBeNull();
    rows.push({ file: m![1]!, name: m![2]! });
  }
  return rows;
}

/** Names as vitest collects them, without the file's top-level describe, joined with " › ". */
async function suiteNames(): Promise<Row[]> {
  const r = await execa(
    process.execPath,
    [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'list', 'test/robustness', '--json'],
    {
      cwd: repoRoot,
      env: { NO_COLOR: '1' },
    },
  );
  const listed = JSON.parse(r.stdout) as Array<{ name: string; file: string }>;
  return listed.map((t) => ({
    file: relative(repoRoot, t.file),
    name: t.name.split(' > ').slice(1).join(' › '),
  }));
}

describe('docs/robustness.md', () => {
  it('has exactly one row per robustness test, and no row for a test that does not exist', async () => {
    const rows = (await docRows()).filter((r) => r.file.startsWith('test/robustness/'));
    const key = (r: Row) => `${r.file} › ${r.name}`;
    const documented = rows.map(key).sort();
    const tests = (await suiteNames()).map(key).sort();
    expect(new Set(documented).size, 'duplicate rows').toBe(documented.length);
    expect(documented).toEqual(tests);
  });

  it('rows pointing at other test files name a title found in that file', async () => {
    const rows = (await docRows()).filter((r) => !r.file.startsWith('test/robustness/'));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      const path = join(repoRoot, r.file);
      expect(existsSync(path), r.file).toBe(true);
      expect(await readFile(path, 'utf8'), `${r.file} › ${r.name}`).toContain(r.name);
    }
  });
});
