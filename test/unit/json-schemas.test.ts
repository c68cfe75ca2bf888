/**
 * schemas/ is generated from the code (`npm run schemas`, scripts/schemas.mjs). This test
 * regenerates every schema and fails, naming the file and what to run, when a committed
 * file differs: a field added to a board, a manifest, the provenance or a `--json` output
 * without regenerating the schemas shows up here.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
// @ts-expect-error: a plain ES module script without types
import { allSchemaFiles, outputKinds } from '../../scripts/schemas.mjs';
import { JSON_KIND_OF_COMMAND } from '../../src/contracts/json.js';
import { repoRoot } from '../helpers/cli.js';
import { schemaErrors } from '../helpers/jsonContract.js';

const REGENERATE = 'run `npm run schemas` and commit schemas/';

async function committedFiles(dir = join(repoRoot, 'schemas')): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await committedFiles(path)));
    else if (e.name.endsWith('.json')) out.push(relative(join(repoRoot, 'schemas'), path));
  }
  return out.sort();
}

let expected: Record<string, string> = {};
beforeAll(async () => {
  expected = (await allSchemaFiles()) as Record<string, string>;
}, 120_000);

describe('schemas/ is what the code generates', () => {
  it('every schema file is up to date with the code', async () => {
    const stale: string[] = [];
    for (const [path, text] of Object.entries(expected)) {
      const committed = await readFile(join(repoRoot, 'schemas', path), 'utf8').catch(() => undefined);
      if (committed !== text)
        stale.push(`schemas/${path} ${committed === undefined ? 'is missing' : 'differs'}`);
    }
    expect(stale, `the JSON Schemas drifted from the code: ${REGENERATE}\n${stale.join('\n')}`).toEqual([]);
  });

  it('schemas/ holds no schema the code no longer makes', async () => {
    const extra = (await committedFiles()).filter((f) => !(f in expected));
    expect(extra, `remove them, then ${REGENERATE}`).toEqual([]);
  });

  it('there is one output schema per command that prints --json, and one per output kind', async () => {
    const kinds = (await outputKinds()) as string[];
    expect([...new Set(Object.values(JSON_KIND_OF_COMMAND))].sort()).toEqual([...kinds].sort());
    for (const kind of kinds) expect(expected).toHaveProperty([`output/${kind}.schema.json`]);
  });

  it('every schema is a valid draft-07 schema (ajv, strict, no allowances)', () => {
    // Plain strict mode, as a consumer's Ajv would run: no allowUnionTypes (union types are anyOf).
    for (const [path, text] of Object.entries(expected)) {
      const schema = JSON.parse(text) as { $schema?: string };
      expect(schema.$schema, path).toBe('http://json-schema.org/draft-07/schema#');
      // One Ajv per file: every file stands alone (its own definitions, no shared $id).
      expect(() => new Ajv({ strict: true }).compile(schema), path).not.toThrow();
    }
  });
});

type Node = Record<string, unknown>;

/** Properties without a description, as paths (`board.source.url`). */
function undescribed(node: unknown, path: string, out: string[] = []): string[] {
  if (!node || typeof node !== 'object') return out;
  const n = node as Node;
  for (const [k, v] of Object.entries((n['properties'] as Record<string, Node> | undefined) ?? {})) {
    if (typeof v['description'] !== 'string' || v['description'] === '') out.push(`${path}.${k}`);
    undescribed(v, `${path}.${k}`, out);
  }
  for (const key of ['items', 'additionalProperties']) undescribed(n[key], `${path}[]`, out);
  for (const key of ['anyOf', 'oneOf', 'allOf'])
    for (const sub of (n[key] as unknown[] | undefined) ?? []) undescribed(sub, path, out);
  return out;
}

describe('the workspace schemas editors use', () => {
  it.each([
    ['board.schema.json', 'boards'],
    ['image.schema.json', 'images'],
    ['pin.schema.json', 'pins'],
  ])('%s: every property has a description (editors show it on hover)', (file, what) => {
    const missing = undescribed(JSON.parse(expected[file] ?? '{}'), what.slice(0, -1));
    expect(missing, `add z.describe(…) to each in src/workspace/schema.ts, then ${REGENERATE}`).toEqual([]);
  });

  it('the shipped workspace files validate against them (ajv)', async () => {
    for (const [file, folder] of [
      ['board.schema.json', 'boards'],
      ['image.schema.json', 'images'],
      ['pin.schema.json', 'pins'],
    ] as const) {
      for (const name of (await readdir(join(repoRoot, folder))).filter((n) => n.endsWith('.yaml'))) {
        const value = parse(await readFile(join(repoRoot, folder, name), 'utf8')) as unknown;
        expect(schemaErrors(file, value), `${folder}/${name}`).toEqual([]);
      }
    }
  });
});
