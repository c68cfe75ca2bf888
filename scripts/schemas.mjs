// `npm run schemas`: writes every JSON Schema in schemas/ from the code, so they cannot drift
// (test/unit/json-schemas.test.ts regenerates them and fails on any difference).
//  - workspace files, manifest.json, the release manifest: from their zod schemas
//    (src/release/documentSchemas.ts), bundled on the fly with esbuild;
//  - every `--json` output (schemas/output/KIND.schema.json) and the provenance statement:
//    from their TypeScript types (src/contracts/json.ts, src/provenance/statement.ts).
// All draft-07: yaml-language-server (editors) does not support 2020-12.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

/** The output kinds: JsonOutputs in src/contracts/json.ts, read from the source itself. */
export async function outputKinds() {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(join(root, 'src/contracts/json.ts'), 'utf8');
  const body = /export interface JsonOutputs \{([\s\S]*?)\n\}/.exec(text)?.[1] ?? '';
  return [...body.matchAll(/^\s+'?([a-z-]+)'?:/gm)].map((m) => m[1]);
}

/** One schema per type, its definitions trimmed to what it uses. */
function standalone(generator, type, title) {
  const schema = generator.createSchema(type);
  return { $schema: DRAFT_07, title, ...withoutSchemaKey(schema) };
}

function withoutSchemaKey({ $schema: _s, ...rest }) {
  return rest;
}

/** File path under schemas/ → schema, from the TypeScript types. */
export async function typeSchemas() {
  const { createGenerator } = await import('ts-json-schema-generator');
  const common = {
    tsconfig: join(root, 'tsconfig.json'),
    skipTypeCheck: true,
    expose: 'export',
    topRef: true,
    jsDoc: 'extended',
    additionalProperties: false,
    sortProps: false,
  };
  const out = {};
  const contracts = createGenerator({ ...common, path: join(root, 'src/contracts/json.ts'), type: '*' });
  const all = contracts.createSchema('JsonOutputs');
  for (const kind of await outputKinds()) {
    const ref = all.definitions?.JsonOutputs?.properties?.[kind];
    if (!ref) throw new Error(`JsonOutputs has no property ${kind}`);
    // Each kind is "its result or a failure": the union, with the definitions it needs.
    const schema = { $schema: DRAFT_07, title: `reprorom.${kind}/v1`, ...ref, definitions: {} };
    schema.definitions = usedDefinitions(ref, all.definitions);
    out[`output/${kind}.schema.json`] = plainFailureName(schema);
  }
  const provenance = createGenerator({
    ...common,
    path: join(root, 'src/provenance/statement.ts'),
    type: 'ProvenanceStatement',
  });
  out['provenance.schema.json'] = standalone(provenance, 'ProvenanceStatement', 'in-toto statement (provenance.json)');
  return out;
}

/** `FailureJson<"reprorom.check/v1">` → `FailureJson`: one failure shape per file, named plainly. */
function plainFailureName(schema) {
  const text = JSON.stringify(schema)
    .replace(/#\/definitions\/FailureJson%3C[^"]*?%3E"/g, '#/definitions/FailureJson"')
    .replace(/"FailureJson<\\"[^"\\]*\\">"/g, '"FailureJson"');
  return JSON.parse(text);
}

/** The definitions `schema` refers to, transitively. */
function usedDefinitions(schema, definitions) {
  const used = {};
  const visit = (node) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') {
        const name = decodeURIComponent(v.replace('#/definitions/', ''));
        if (!(name in used)) {
          used[name] = definitions[name];
          visit(definitions[name]);
        }
      } else visit(v);
    }
  };
  visit(schema);
  return Object.fromEntries(Object.keys(used).sort().map((k) => [k, used[k]]));
}

/** File path under schemas/ → schema, from the zod schemas (bundled from source with esbuild). */
export async function zodSchemas() {
  const { build } = await import('esbuild');
  const dir = await mkdtemp(join(tmpdir(), 'rr-schemas-'));
  try {
    const file = join(dir, 'documentSchemas.mjs');
    await build({
      entryPoints: [join(root, 'src/release/documentSchemas.ts')],
      outfile: file,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
      absWorkingDir: root,
    });
    // Resolve packages (zod) from the repository's node_modules.
    const copy = join(root, 'node_modules', `.rr-schemas-${process.pid}.mjs`);
    const { readFile } = await import('node:fs/promises');
    await writeFile(copy, await readFile(file));
    try {
      const mod = await import(`${pathToFileURL(copy).href}?${Date.now()}`);
      return mod.documentSchemas();
    } finally {
      await rm(copy, { force: true });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `"type": ["string", "number"]` → `"anyOf": [{ "type": "string" }, { "type": "number" }]`.
 * Ajv's strict mode (the default of many validators built on it) refuses a union `type`
 * unless told `allowUnionTypes`; `anyOf` means the same and every strict validator accepts it.
 * `[T, "null"]` (a nullable T) is left alone: strict mode allows it.
 */
export function withoutUnionTypes(node) {
  if (Array.isArray(node)) return node.map(withoutUnionTypes);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'enum' || k === 'const' ? v : withoutUnionTypes(v);
  const types = Array.isArray(out.type) ? out.type : [];
  const nonNull = types.filter((t) => t !== 'null');
  if (nonNull.length > 1 && out.anyOf === undefined) {
    const { type: _t, ...rest } = out;
    return { ...rest, anyOf: types.map((t) => ({ type: t })) };
  }
  return out;
}

/** Every schema file's expected text, by path under schemas/. */
export async function allSchemaFiles() {
  const files = { ...(await zodSchemas()), ...(await typeSchemas()) };
  return Object.fromEntries(
    Object.entries(files)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, schema]) => [path, `${JSON.stringify(withoutUnionTypes(schema), null, 2)}\n`]),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [path, text] of Object.entries(await allSchemaFiles())) {
    const file = join(root, 'schemas', path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
    process.stdout.write(`schemas/${path}\n`);
  }
}
