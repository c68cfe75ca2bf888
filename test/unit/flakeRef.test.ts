import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFlakeRef } from '../../src/workspace/flakeRef.js';
import { jsonSchemaFor, schemaFileNames, type WorkspaceKind } from '../../src/workspace/schema.js';
import { repoRoot } from '../helpers/cli.js';

const REV = 'bfb7a882678e518398ce9a31a881538679f6f092';

describe('flake references', () => {
  it.each([
    [`github:NixOS/nixpkgs/${REV}`, 'github'],
    [`github:NixOS/nixpkgs?rev=${REV}`, 'github'],
    [`git+https://example.org/fw.git?ref=main&rev=${REV}`, 'git'],
    ['path:./pins/offline', 'path'],
    ['./pins/offline', 'path'],
    ['https://example.org/nixpkgs.tar.gz', 'tarball'],
  ])('accepts %s as %s', (ref, kind) => {
    const r = parseFlakeRef(ref);
    expect(r.ok && r.ref.kind).toBe(kind);
  });

  it.each([
    ['github:NixOS/nixpkgs/nixos-unstable', /branch or tag "nixos-unstable"/],
    ['github:NixOS/nixpkgs', /names no commit/],
    ['github:NixOS/nixpkgs/abc123', /branch or tag "abc123"/],
    ['git+https://example.org/fw.git?ref=main', /no \?rev=/],
    ['path:/abs/flake', /absolute path/],
    ['nixpkgs', /not supported/],
  ])('refuses %s', (ref, message) => {
    const r = parseFlakeRef(ref);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});

describe('JSON Schemas in schemas/', () => {
  it.each(Object.keys(schemaFileNames) as WorkspaceKind[])(
    '%s is up to date with the zod schema',
    async (kind) => {
      const committed = JSON.parse(await readFile(join(repoRoot, 'schemas', schemaFileNames[kind]), 'utf8'));
      expect(committed).toEqual(JSON.parse(JSON.stringify(jsonSchemaFor(kind))));
    },
  );
});
