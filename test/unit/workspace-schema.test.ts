/**
 * The JSON Schemas editors use and the zod schemas the checker uses describe the
 * same files; the repository's own workspace files validate against both.
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type * as z from 'zod/mini';
import { loadWorkspace } from '../../src/workspace/load.js';
import {
  boardSchema,
  imageSchema,
  pinSchema,
  schemaFileNames,
  type WorkspaceKind,
  workspaceKinds,
} from '../../src/workspace/schema.js';
import { allowedKeys, closestKey } from '../../src/workspace/schemaKeys.js';
import { repoRoot } from '../helpers/cli.js';

const kinds = Object.keys(schemaFileNames) as WorkspaceKind[];

interface JsonSchema {
  $schema?: string;
  type?: string;
  properties?: Record<string, unknown>;
  required?: string[];
  additionalProperties?: unknown;
}

async function committedSchema(kind: WorkspaceKind): Promise<JsonSchema> {
  return JSON.parse(await readFile(join(repoRoot, 'schemas', schemaFileNames[kind]), 'utf8')) as JsonSchema;
}

function zodShape(kind: WorkspaceKind): Record<string, z.ZodMiniType> {
  return (workspaceKinds[kind] as unknown as { shape: Record<string, z.ZodMiniType> }).shape;
}

describe('JSON Schemas match the zod schemas', () => {
  it.each(kinds)('%s: same top-level properties, same required keys, no others allowed', async (kind) => {
    const json = await committedSchema(kind);
    const shape = zodShape(kind);
    // draft-07: yaml-language-server (the editors' validator) does not support 2020-12.
    expect(json.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(json.type).toBe('object');
    expect(Object.keys(json.properties ?? {}).sort()).toEqual(Object.keys(shape).sort());
    // Required = neither optional nor defaulted on input.
    const required = Object.entries(shape)
      .filter(([, s]) => !s.safeParse(undefined).success)
      .map(([k]) => k);
    expect([...(json.required ?? [])].sort()).toEqual(required.sort());
    expect(json.additionalProperties).toBe(false);
  });

  it('the required keys are the ones a user must write', async () => {
    expect((await committedSchema('pins')).required?.sort()).toEqual(['flake', 'narHash']);
    expect((await committedSchema('images')).required?.sort()).toEqual(['packages', 'pin']);
    expect((await committedSchema('boards')).required?.sort()).toEqual(['artifacts', 'commands', 'image']);
  });
});

/** Every workspace file of a kind in the repository, parsed. */
async function repoFiles(kind: WorkspaceKind): Promise<Array<[string, string]>> {
  const names = (await readdir(join(repoRoot, kind))).filter((n) => n.endsWith('.yaml')).sort();
  return Promise.all(
    names.map(
      async (n) => [`${kind}/${n}`, await readFile(join(repoRoot, kind, n), 'utf8')] as [string, string],
    ),
  );
}

function hasPythonJsonschema(): boolean {
  try {
    execFileSync('python3', ['-c', 'import jsonschema, yaml'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('the repository workspace files', () => {
  it.each(kinds)('%s: each file points editors at its schema on line 1', async (kind) => {
    for (const [file, text] of await repoFiles(kind)) {
      expect(text.split('\n')[0], file).toBe(
        `# yaml-language-server: $schema=../schemas/${schemaFileNames[kind]}`,
      );
      expect(workspaceKinds[kind].safeParse(parse(text)).success, file).toBe(true);
    }
  });

  // An independent JSON Schema implementation proves the generated files are valid
  // draft-07 schemas and accept the examples. It is a host tool, not a project
  // dependency, so its absence skips (also under CI) rather than fails.
  it.skipIf(!hasPythonJsonschema())(
    'the JSON Schemas are valid draft-07 schemas and accept every example file (python jsonschema)',
    () => {
      const script = `
import glob, json, sys, yaml, jsonschema
bad = []
for kind, folder in [('pin', 'pins'), ('image', 'images'), ('board', 'boards')]:
    schema = json.load(open(f'schemas/{kind}.schema.json'))
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft7Validator, cls
    cls.check_schema(schema)
    for f in sorted(glob.glob(f'{folder}/*.yaml')) + sorted(glob.glob(f'test/fixtures/good/{folder}/*.yaml')):
        bad += [f'{f}: {e.message}' for e in cls(schema).iter_errors(yaml.safe_load(open(f)))]
    # And it must reject what the checker rejects: an unknown key.
    if not list(cls(schema).iter_errors({'surely_unknown': 1})):
        bad.append(f'{kind}: accepts unknown keys')
print('\\n'.join(bad))
sys.exit(1 if bad else 0)
`;
      const out = execFileSync('python3', ['-c', script], { cwd: repoRoot, encoding: 'utf8' });
      expect(out.trim()).toBe('');
    },
  );

  it('the real-nixpkgs pins are the commits Heads uses', async () => {
    const nixpkgs = pinSchema.parse(parse(await readFile(join(repoRoot, 'pins/nixpkgs.yaml'), 'utf8')));
    expect(nixpkgs).toMatchObject({
      flake: 'github:NixOS/nixpkgs/bfb7a882678e518398ce9a31a881538679f6f092',
      narHash: 'sha256-4zSIhSRRIoEBwjbPm3YiGtbd8HDWzFxJjw5DYSDy1n8=',
      packageSet: 'legacyPackages',
    });
    const sdcc = pinSchema.parse(parse(await readFile(join(repoRoot, 'pins/nixpkgs-sdcc.yaml'), 'utf8')));
    expect(sdcc.flake).toMatch(/^github:NixOS\/nixpkgs\/[0-9a-f]{40}$/);
    expect(sdcc.flake).not.toBe(nixpkgs.flake);
    expect(sdcc.description).toMatch(/sdcc/);
    expect(sdcc.description).toMatch(/not locked offline/);
  });

  it("the heads image holds Heads' devShell package set, with sdcc from the older pin", async () => {
    const heads = imageSchema.parse(parse(await readFile(join(repoRoot, 'images/heads.yaml'), 'utf8')));
    const devShell =
      'autoconf automake bashInteractive coreutils bc bison bzip2 cacert ccache cmake cpio curl diffutils dtc e2fsprogs elfutils findutils flex gawk git gnat gnugrep gnumake gnused gnutar gzip imagemagick innoextract libtool m4 ncurses5 nss openssl parted patch perl pkg-config procps psmisc python3 rsync sharutils texinfo unzip wget which xxd xz zip zlib qemu_full diffoscopeMinimal gnupg swtpm'.split(
        ' ',
      );
    expect(heads.pin).toBe('nixpkgs');
    expect([...heads.packages].sort()).toEqual([...devShell].sort());
    expect(heads.packages).not.toContain('sdcc');
    expect(heads.extraPins).toEqual([{ pin: 'nixpkgs-sdcc', packages: ['sdcc'] }]);
    expect(heads.env).toMatchObject({ LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' });
  });

  it('the repository workspace loads without problems, references resolved', async () => {
    const { workspace, problems } = await loadWorkspace(repoRoot);
    expect(problems).toEqual([]);
    expect(workspace.images.get('heads')?.value.extraPins[0]?.pin).toBe('nixpkgs-sdcc');
    expect(workspace.pins.has('nixpkgs-sdcc')).toBe(true);
  });
});

describe('allowed keys and suggestions', () => {
  it('walks into nested mappings, lists and the chosen source type', () => {
    expect(allowedKeys(boardSchema, [], {})).toContain('artifacts');
    expect(allowedKeys(boardSchema, ['limits'], {})).toEqual(['memory', 'pids', 'disk', 'time', 'log']);
    expect(allowedKeys(imageSchema, ['extraPins', 0], {})).toEqual(['pin', 'packages']);
    expect(allowedKeys(boardSchema, ['source'], { source: { type: 'git' } })).toEqual(['type', 'url', 'rev']);
    expect(allowedKeys(boardSchema, ['source'], { source: { type: 'tarball' } })).toEqual([
      'type',
      'url',
      'sha256',
      'stripComponents',
    ]);
    // Without a (known) type every option's keys are allowed candidates.
    expect(allowedKeys(boardSchema, ['source'], { source: {} })).toEqual(
      expect.arrayContaining(['path', 'url', 'package']),
    );
    expect(allowedKeys(boardSchema, ['nothing'], {})).toEqual([]);
  });

  it.each([
    ['artifact', 'artifacts'],
    ['pakages', 'packages'],
    ['NarHash', 'narHash'],
    ['narhash', 'narHash'],
    ['sourcedateepoch', 'sourceDateEpoch'],
    ['colour', undefined],
    ['x', undefined],
  ])('%s → %s', (typo, expected) => {
    const all = [
      ...Object.keys(pinSchema.shape),
      ...Object.keys(imageSchema.shape),
      ...Object.keys(boardSchema.shape),
    ];
    expect(closestKey(typo, all)).toBe(expected);
  });
});
