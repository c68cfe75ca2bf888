/** Provenance statements: deterministic bytes, the right content, and refusal of incomplete ones. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ManifestInput, manifestSchema } from '../../src/hashes/runManifest.js';
import { jsonDifferences, parseProvenance } from '../../src/provenance/parse.js';
import {
  BUILD_TYPE,
  BUILD_TYPE_DOC,
  formatStatement,
  hexToSri,
  PROJECT_REPOSITORY,
  provenanceStatement,
  SLSA_PREDICATE,
  STATEMENT_TYPE,
  sriToHex,
} from '../../src/provenance/statement.js';
import {
  formatReleaseManifest,
  parseReleaseManifest,
  type ReleaseManifest,
} from '../../src/release/releaseManifest.js';
import { checkReproducible } from '../../src/release/write.js';
import { ConfigError, MismatchError } from '../../src/util/errors.js';
import { repoRoot } from '../helpers/cli.js';
import { IMAGE, sampleManifest as manifest, NAR, ROM } from '../helpers/manifestFixture.js';

/** A parsed statement, edited freely to make it incomplete. */
// biome-ignore lint/suspicious/noExplicitAny: test edits of arbitrary JSON
type Json = any;

/** The same build seen by a second, varied run on another machine. */
const variedRun = manifest({
  run: { id: '20261123-090000-000000', index: 2, machine: 'other-box' },
  env: {
    HOME: '/build/home',
    LANG: 'fr_FR.UTF-8',
    LC_ALL: 'fr_FR.UTF-8',
    MAKEFLAGS: '-j7',
    REPROROM_JOBS: '7',
    SOURCE_DATE_EPOCH: '1681218505',
    TZ: 'Pacific/Auckland',
    USER: 'build',
  },
  variations: {
    hostname: 'varied-host-2',
    uid: 4242,
    umask: '0077',
    tz: 'Pacific/Auckland',
    locale: 'fr_FR.UTF-8',
    jobs: 7,
    fileOrder: 'shuffled',
    seed: 99,
  },
  durationMs: 20001,
});

describe('provenance statement', () => {
  it('is byte-identical for two runs with the same artifacts, whatever was varied', () => {
    const a = formatStatement(provenanceStatement(manifest()));
    const b = formatStatement(provenanceStatement(variedRun));
    expect(b).toBe(a);
    for (const leak of [
      '20261122',
      'fa7ea0',
      'varied-host',
      'other-box',
      'Pacific',
      'fr_FR',
      '-j7',
      '13870',
      '4242',
      'shuffled',
    ]) {
      expect(a).not.toContain(leak);
    }
  });

  it('changes when an input or an artifact changes', () => {
    const base = formatStatement(provenanceStatement(manifest()));
    const otherRom = manifest({
      artifacts: [{ path: 'artifacts/out/bios.bin', sha256: 'b'.repeat(64), size: 262144 }],
    });
    const otherPin = manifest({
      pin: { name: 'offline', flake: 'path:./pins/offline', narHash: hexToSri('c'.repeat(64)) },
    });
    const otherCmd = manifest({ commands: ['make'] });
    for (const m of [otherRom, otherPin, otherCmd])
      expect(formatStatement(provenanceStatement(m))).not.toBe(base);
  });

  it('is an in-toto v1 statement with a SLSA v1 predicate naming subjects, pin, image and source', () => {
    const s = JSON.parse(
      formatStatement(
        provenanceStatement(
          manifest({
            extraPins: [
              { name: 'nixpkgs-sdcc', flake: 'github:NixOS/nixpkgs/abc', narHash: hexToSri('d'.repeat(64)) },
            ],
          }),
        ),
      ),
    );
    expect(s._type).toBe(STATEMENT_TYPE);
    expect(s.predicateType).toBe(SLSA_PREDICATE);
    expect(s.subject).toEqual([{ name: 'artifacts/out/bios.bin', digest: { sha256: ROM } }]);
    const def = s.predicate.buildDefinition;
    expect(def.externalParameters).toMatchObject({
      board: 'seabios-qemu',
      commands: ['make PYTHON=python3 EXTRAVERSION=-reprorom'],
      sourceDateEpoch: 1681218505,
      pin: 'offline',
      image: 'firmware',
    });
    expect(def.externalParameters.env).toEqual({
      HOME: '/build/home',
      SOURCE_DATE_EPOCH: '1681218505',
      USER: 'build',
    });
    const deps = Object.fromEntries(def.resolvedDependencies.map((d: { name: string }) => [d.name, d]));
    expect(deps['source']).toEqual({ name: 'source', digest: { reproromTreeSha256: 'a'.repeat(64) } });
    // The files as Debian publishes them, by their own sha256 (what `sha256sum FILE` prints).
    expect(deps['source/seabios_1.16.2-1.dsc']).toEqual({
      name: 'source/seabios_1.16.2-1.dsc',
      uri: 'pkg:deb/debian/seabios@1.16.2-1?arch=source',
      digest: { sha256: 'e'.repeat(64) },
    });
    expect(deps['source/seabios_1.16.2.orig.tar.gz']).toMatchObject({ digest: { sha256: 'f'.repeat(64) } });
    expect(deps['pin/offline']).toEqual({
      name: 'pin/offline',
      uri: 'path:./pins/offline',
      digest: { nixNarSha256: sriToHex(NAR) },
      annotations: { relativeTo: 'workspace' },
    });
    expect(deps['pin/nixpkgs-sdcc']).toEqual({
      name: 'pin/nixpkgs-sdcc',
      uri: 'github:NixOS/nixpkgs/abc',
      digest: { nixNarSha256: 'd'.repeat(64) },
    });
    expect(deps['image/firmware']).toEqual({
      name: 'image/firmware',
      digest: { sha256: '5'.repeat(64) },
      annotations: { mediaType: 'application/vnd.oci.image.config.v1+json' },
    });
    // No key of reprorom's own under `sha256` anywhere: only published bytes' sha256.
    expect(JSON.stringify(deps['source'])).not.toContain('"sha256"');
    expect(s.predicate.buildDefinition.buildType).toBe(BUILD_TYPE);
    expect(BUILD_TYPE).toBe('https://github.com/reprorom/reprorom/blob/main/docs/buildtypes/board-v1.md');
    expect(existsSync(join(repoRoot, BUILD_TYPE_DOC))).toBe(true);
    expect(s.predicate.runDetails.builder.id).toBe('https://github.com/reprorom/reprorom@v0.1.0');
    // The ids name the repository package.json names: one project identity, not a registry name.
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.repository.url).toBe(`git+${PROJECT_REPOSITORY}.git`);
    expect(pkg.homepage).toBe(PROJECT_REPOSITORY);
    expect(`${BUILD_TYPE}\n${s.predicate.runDetails.builder.id}`).not.toMatch(/pkg:npm/);
    expect(s.predicate.runDetails).not.toHaveProperty('metadata');
  });

  it('names each source by what its publisher publishes: tarball sha256, git commit, workspace commit and state', () => {
    const depsOf = (source: ManifestInput['source']) =>
      Object.fromEntries(
        provenanceStatement(manifest({ source })).predicate.buildDefinition.resolvedDependencies.map((d) => [
          d.name,
          d,
        ]),
      );
    const tree = 'a'.repeat(64);
    const tarball = depsOf({
      type: 'tarball',
      hash: tree,
      url: 'https://x.example/s.tar.gz',
      sha256: 'c'.repeat(64),
    });
    expect(tarball['source/tarball']).toEqual({
      name: 'source/tarball',
      uri: 'https://x.example/s.tar.gz',
      digest: { sha256: 'c'.repeat(64) },
    });
    const git = depsOf({ type: 'git', hash: tree, url: 'https://x.example/r.git', commit: '1'.repeat(40) });
    expect(git['source/git']).toEqual({
      name: 'source/git',
      uri: 'https://x.example/r.git',
      digest: { gitCommit: '1'.repeat(40) },
    });
    const clean = depsOf({ type: 'local', hash: tree, commit: '2'.repeat(40), path: 'fw', dirty: false });
    expect(clean['source']).toEqual({
      name: 'source',
      digest: { reproromTreeSha256: tree },
      annotations: { dirty: 'false' },
    });
    expect(clean['source/workspace']).toEqual({
      name: 'source/workspace',
      digest: { gitCommit: '2'.repeat(40) },
      annotations: { path: 'fw', dirty: 'false' },
    });
    const dirty = depsOf({ type: 'local', hash: tree, commit: '2'.repeat(40), path: '.', dirty: true });
    expect(dirty['source/workspace']?.annotations).toEqual({ path: '.', dirty: 'true' });
    const noGit = depsOf({ type: 'local', hash: tree, dirty: true });
    expect(noGit['source']?.annotations).toEqual({ dirty: 'true' });
    expect(noGit['source/workspace']).toBeUndefined();
    const read = parseProvenance(
      formatStatement(
        provenanceStatement(
          manifest({ source: { type: 'local', hash: tree, commit: '2'.repeat(40), path: '.', dirty: true } }),
        ),
      ),
      'p.json',
    );
    expect(read.build.source).toMatchObject({ commit: '2'.repeat(40), dirty: true });
  });

  it('writes keys in sorted order at every level', () => {
    const text = formatStatement(provenanceStatement(manifest()));
    expect(Object.keys(JSON.parse(text))).toEqual(['_type', 'predicate', 'predicateType', 'subject']);
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('converts narHash between SRI and hex without loss', () => {
    expect(hexToSri(sriToHex(NAR)!)).toBe(NAR);
    expect(sriToHex('sha256-short')).toBeUndefined();
  });
});

describe('parseProvenance', () => {
  const text = formatStatement(provenanceStatement(manifest()));

  it('reads back the build it describes', () => {
    const { build } = parseProvenance(text, 'p.json');
    expect(build).toMatchObject({
      board: 'seabios-qemu',
      pin: { name: 'offline', flake: 'path:./pins/offline', narHash: NAR },
      image: { name: 'firmware', id: IMAGE },
      source: { type: 'debian-source', hash: 'a'.repeat(64), package: 'seabios' },
      subjects: [{ name: 'artifacts/out/bios.bin', sha256: ROM }],
    });
  });

  const edited = (edit: (s: Json) => void) => {
    const s = JSON.parse(text);
    edit(s);
    return JSON.stringify(s);
  };
  const refusal = (t: string) => {
    try {
      parseProvenance(t, 'p.json');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).exitCode).toBe(2);
      return (err as Error).message;
    }
    throw new Error('accepted an incomplete provenance');
  };

  it('refuses a missing pin narHash, naming the field', () => {
    const msg = refusal(
      edited((s) => {
        const deps = s.predicate.buildDefinition.resolvedDependencies;
        delete deps.find((d: Json) => d.name === 'pin/offline').digest.nixNarSha256;
      }),
    );
    expect(msg).toContain('(pin/offline).digest.nixNarSha256 is missing');
    expect(msg).toContain('narHash');
  });

  it('refuses a missing image ID and a missing source hash', () => {
    const deps = (s: Json) => s.predicate.buildDefinition.resolvedDependencies;
    expect(
      refusal(
        edited((s) => {
          deps(s).pop();
        }),
      ),
    ).toContain('no entry named "image/firmware"');
    expect(
      refusal(
        edited((s) => {
          deps(s)[0].digest = {};
        }),
      ),
    ).toContain('(source).digest.reproromTreeSha256 is missing');
  });

  it('refuses missing commands, board and a wrong statement type', () => {
    expect(
      refusal(
        edited((s) => {
          delete s.predicate.buildDefinition.externalParameters.commands;
        }),
      ),
    ).toContain('externalParameters.commands');
    expect(
      refusal(
        edited((s) => {
          delete s.predicate.buildDefinition.externalParameters.board;
        }),
      ),
    ).toContain('externalParameters.board');
    expect(
      refusal(
        edited((s) => {
          s._type = 'x';
        }),
      ),
    ).toContain('_type');
    expect(refusal('{not json')).toContain('invalid JSON');
  });

  it('jsonDifferences names each differing path', () => {
    expect(jsonDifferences({ a: 1, b: [1, 2] }, { a: 1, b: [1, 3] })).toEqual(['b[1]: 2 ≠ 3']);
    expect(jsonDifferences({ a: 1 }, { a: 1 })).toEqual([]);
    expect(jsonDifferences({ a: 1 }, {}, 'x')).toEqual(['x.a: 1 ≠ (absent)']);
  });
});

describe('release manifest and reproducibility gate', () => {
  const m = (x: ManifestInput) => manifestSchema.parse(x);

  it('refuses a release from one run or from runs that disagree, naming the artifact', () => {
    expect(() => checkReproducible('seabios-qemu', [m(manifest())])).toThrow(MismatchError);
    const other = m(
      manifest({
        run: { id: 'r', index: 2 },
        artifacts: [{ path: 'artifacts/out/bios.bin', sha256: 'e'.repeat(64), size: 1 }],
      }),
    );
    expect(() => checkReproducible('seabios-qemu', [m(manifest()), other])).toThrow(
      /not reproducible: seabios-qemu out\/bios\.bin differs/,
    );
    expect(() => checkReproducible('seabios-qemu', [m(manifest()), m(variedRun)])).not.toThrow();
  });

  it('formats deterministically and parses back', () => {
    const rel: ReleaseManifest = {
      schema: 'reprorom.release/v1',
      tool: { name: 'reprorom', version: '0.1.0' },
      boards: [
        {
          board: 'seabios-qemu',
          image: { name: 'firmware', id: IMAGE },
          pin: { name: 'offline', flake: 'path:./pins/offline', narHash: NAR },
          extraPins: [],
          source: { type: 'debian-source', hash: 'a'.repeat(64) },
          commands: ['make'],
          sourceDateEpoch: 1,
          reproducedRuns: 2,
          hashes: 'seabios-qemu/hashes.txt',
          provenance: { path: 'seabios-qemu/provenance.json', sha256: 'f'.repeat(64) },
          artifacts: [{ path: 'seabios-qemu/out/bios.bin', sha256: ROM, size: 3 }],
        },
      ],
    };
    const text = formatReleaseManifest(rel);
    expect(formatReleaseManifest(parseReleaseManifest(text, 'm.json'))).toBe(text);
    expect(() =>
      parseReleaseManifest(text.replace('seabios-qemu/out/bios.bin', '../bios.bin'), 'm.json'),
    ).toThrow(/contains "\.\."/);
  });
});
