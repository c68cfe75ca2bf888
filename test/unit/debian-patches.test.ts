/**
 * `patches: debian | none` on a debian-source board: the series is read in quilt's order
 * (comments and options ignored), and the applied patches reach manifest.json and the
 * provenance (names and sha256, in order); `none` records the policy and no patches.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatManifest, type ManifestInput } from '../../src/hashes/runManifest.js';
import { provenanceStatement } from '../../src/provenance/statement.js';
import { seriesPatches } from '../../src/sources/debian.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
let tree: string;

beforeEach(async () => {
  tree = await mkdtemp(join(tmpdir(), 'rr-patches-'));
  await mkdir(join(tree, 'debian', 'patches', 'riscv'), { recursive: true });
  await writeFile(join(tree, 'debian', 'patches', 'b.patch'), 'patch b');
  await writeFile(join(tree, 'debian', 'patches', 'riscv', 'a.patch'), 'patch a');
  await writeFile(
    join(tree, 'debian', 'patches', 'series'),
    '# applied in this order\nb.patch\n\nriscv/a.patch -p1\n#c.patch\n',
  );
});

afterEach(async () => {
  await rm(tree, { recursive: true, force: true });
});

function manifest(patches: NonNullable<ManifestInput['source']['patches']>): ManifestInput {
  return {
    schema: 'reprorom.manifest/v1',
    tool: { name: 'reprorom', version: '0.1.0' },
    board: 'uboot',
    run: { id: 'r1', index: 1 },
    source: { type: 'debian-source', hash: 'a'.repeat(64), package: 'u-boot', version: '1', patches },
    pin: { name: 'offline', flake: 'path:./pins/offline', narHash: `sha256-${'A'.repeat(43)}=` },
    extraPins: [],
    image: { name: 'firmware', id: `sha256:${'5'.repeat(64)}` },
    commands: ['make'],
    env: { SOURCE_DATE_EPOCH: '1' },
    sourceDateEpoch: 1,
    variations: {
      hostname: 'h',
      uid: 1000,
      umask: '0022',
      tz: 'UTC',
      locale: 'C',
      jobs: 1,
      fileOrder: 'sorted',
    },
    artifacts: [{ path: 'artifacts/u-boot.bin', sha256: 'b'.repeat(64), size: 1 }],
    durationMs: 1,
    exitCode: 0,
    result: 'ok',
  };
}

describe('Debian patches', () => {
  it('reads debian/patches/series in order, without comments or options', async () => {
    expect(await seriesPatches(tree)).toEqual([
      { name: 'b.patch', sha256: sha256('patch b') },
      { name: 'riscv/a.patch', sha256: sha256('patch a') },
    ]);
  });

  it('a tree without a series has no patches', async () => {
    await rm(join(tree, 'debian', 'patches', 'series'));
    expect(await seriesPatches(tree)).toEqual([]);
  });

  it('records the policy and each applied patch in the manifest and the provenance', async () => {
    const applied = await seriesPatches(tree);
    const m = manifest({ policy: 'debian', applied });
    expect(JSON.parse(formatManifest(m)).source.patches).toEqual({ policy: 'debian', applied });
    const def = provenanceStatement(m).predicate.buildDefinition;
    expect(def.externalParameters.source).toEqual({
      type: 'debian-source',
      package: 'u-boot',
      version: '1',
      patches: 'debian',
    });
    expect(def.resolvedDependencies.filter((d) => d.name.startsWith('patch/'))).toEqual([
      { name: 'patch/b.patch', digest: { sha256: sha256('patch b') }, annotations: { order: '1' } },
      { name: 'patch/riscv/a.patch', digest: { sha256: sha256('patch a') }, annotations: { order: '2' } },
    ]);
  });

  it('`patches: none` is said in the provenance, with no patch listed', () => {
    const def = provenanceStatement(manifest({ policy: 'none', applied: [] })).predicate.buildDefinition;
    expect(def.externalParameters.source.patches).toBe('none');
    expect(def.resolvedDependencies.some((d) => d.name.startsWith('patch/'))).toBe(false);
  });
});
