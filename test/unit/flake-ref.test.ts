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

  it('normalises a github reference to OWNER/REPO/COMMIT, whichever way the commit was given', () => {
    for (const input of [`github:NixOS/nixpkgs/${REV}`, `github:NixOS/nixpkgs?rev=${REV}`]) {
      const r = parseFlakeRef(input);
      expect(r).toEqual({
        ok: true,
        ref: {
          kind: 'github',
          owner: 'NixOS',
          repo: 'nixpkgs',
          rev: REV,
          url: `github:NixOS/nixpkgs/${REV}`,
        },
      });
    }
  });

  it('keeps the git URL and extracts its commit', () => {
    const url = `git+https://example.org/fw.git?ref=main&rev=${REV}`;
    expect(parseFlakeRef(url)).toEqual({ ok: true, ref: { kind: 'git', url, rev: REV } });
  });

  it('strips path: and keeps the relative folder', () => {
    expect(parseFlakeRef('path:./pins/offline')).toEqual({
      ok: true,
      ref: { kind: 'path', path: './pins/offline', url: 'path:./pins/offline' },
    });
    expect(parseFlakeRef('./shared/../flake')).toMatchObject({
      ok: true,
      ref: { path: './shared/../flake' },
    });
  });

  it('refuses a path flake outside the workspace and local-file references (issue 31 item 8)', () => {
    expect(parseFlakeRef('../shared/flake')).toMatchObject({ ok: false });
    expect(parseFlakeRef('path:./a/../../out')).toMatchObject({ ok: false });
    expect(parseFlakeRef('tarball+file:///etc/x.tar.gz')).toMatchObject({ ok: false });
    expect(parseFlakeRef('file:///etc/x.tar.gz')).toMatchObject({ ok: false });
  });

  it.each([
    ['github:NixOS/nixpkgs/nixos-unstable', /points at the branch or tag "nixos-unstable"/],
    ['github:NixOS/nixpkgs', /names no commit/],
    ['github:NixOS/nixpkgs/', /names no commit/],
    ['github:NixOS/nixpkgs/abc123', /branch or tag "abc123"/],
    ['github:NixOS/nixpkgs/bfb7a88', /abbreviated commit "bfb7a88"/],
    [`github:NixOS/nixpkgs/${REV.toUpperCase()}`, /in uppercase/],
    ['github:NixOS/nixpkgs?ref=nixos-24.05', /names no commit/],
    ['github:NixOS', /malformed, expected github:OWNER\/REPO\/COMMIT/],
    ['github:NixOS/nixpkgs/a/b', /malformed/],
    ['git+https://example.org/fw.git?ref=main', /no \?rev=/],
    ['git+https://example.org/fw.git', /no \?rev=/],
    ['git+https://example.org/fw.git?rev=bfb7a88', /rev "bfb7a88", which is not a full commit/],
    ['path:/abs/flake', /absolute path/],
    ['path:', /names no folder/],
    ['nixpkgs', /not supported/],
    ['', /not supported/],
  ])('refuses %s', (ref, message) => {
    const r = parseFlakeRef(ref);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toMatch(message);
      expect(r.message).toMatch(/, expected /);
      expect(r.message).not.toMatch(/\n/);
    }
  });

  it('names the pin in its advice when it knows it, NAME otherwise', () => {
    const named = parseFlakeRef('github:NixOS/nixpkgs/nixos-unstable', 'nixpkgs');
    expect(!named.ok && named.message).toMatch(/run `reprorom pin lock nixpkgs` to resolve it to a commit/);
    const anonymous = parseFlakeRef('git+https://example.org/fw.git?ref=main');
    expect(!anonymous.ok && anonymous.message).toMatch(/run `reprorom pin lock NAME`/);
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
