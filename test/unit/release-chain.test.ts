/**
 * A release of a board with inputs (issue 18): the producer is released with its consumer, the
 * consumer's provenance names the payload's sha256, and the checks that need no rebuild tie the
 * two together: a payload changed in the release is named as the consumer's input.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ManifestInput, writeManifest } from '../../src/hashes/runManifest.js';
import { parseProvenance } from '../../src/provenance/parse.js';
import { inputLinkChecks, inputUses, integrityChecks, provenanceChecks } from '../../src/release/check.js';
import { parseReleaseManifest, type ReleaseManifest } from '../../src/release/releaseManifest.js';
import { writeRelease } from '../../src/release/write.js';
import { sha256Bytes } from '../../src/util/sha256.js';
import { sampleManifest } from '../helpers/manifestFixture.js';

const PAYLOAD = Buffer.from('\x7fELF seabios payload');
const ROM = Buffer.from('coreboot rom holding the payload');

function manifest(board: string, index: number, over: Partial<ManifestInput>): ManifestInput {
  return sampleManifest({
    board,
    run: { id: '20261202-130000-000001', index },
    source: { type: 'debian-source', hash: 'a'.repeat(64), package: board, version: '1' },
    commands: ['make'],
    env: { SOURCE_DATE_EPOCH: '1' },
    sourceDateEpoch: 1,
    artifacts: [],
    durationMs: 1,
    ...over,
  });
}

/** Two runs of a producer and of its consumer, as `release coreboot-qemu` builds them. */
async function chainRuns(root: string) {
  const runs: Record<string, string[]> = { 'seabios-coreboot': [], 'coreboot-qemu': [] };
  for (const index of [1, 2]) {
    const prod = join(root, 'seabios-coreboot', String(index));
    await mkdir(join(prod, 'artifacts/out'), { recursive: true });
    await writeFile(join(prod, 'artifacts/out/bios.bin.elf'), PAYLOAD);
    await writeManifest(
      prod,
      manifest('seabios-coreboot', index, {
        artifacts: [
          { path: 'artifacts/out/bios.bin.elf', sha256: sha256Bytes(PAYLOAD), size: PAYLOAD.length },
        ],
      }),
    );
    const cons = join(root, 'coreboot-qemu', String(index));
    await mkdir(join(cons, 'artifacts/build'), { recursive: true });
    await writeFile(join(cons, 'artifacts/build/coreboot.rom'), ROM);
    await writeManifest(
      cons,
      manifest('coreboot-qemu', index, {
        inputs: [
          {
            type: 'board',
            path: 'payloads/seabios.elf',
            sha256: sha256Bytes(PAYLOAD),
            size: PAYLOAD.length,
            board: 'seabios-coreboot',
            artifact: 'out/bios.bin.elf',
            run: index,
          },
        ],
        artifacts: [{ path: 'artifacts/build/coreboot.rom', sha256: sha256Bytes(ROM), size: ROM.length }],
      }),
    );
    runs['seabios-coreboot']?.push(prod);
    runs['coreboot-qemu']?.push(cons);
  }
  return Object.entries(runs).map(([board, runDirs]) => ({ board, runDirs }));
}

let release = '';
let m: ReleaseManifest;

beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), 'rr-release-chain-'));
  release = join(root, 'release');
  m = (await writeRelease(release, await chainRuns(join(root, 'runs')))).manifest;
});

const fresh = async () => parseReleaseManifest(await readFile(join(release, 'manifest.json'), 'utf8'), 'm');

describe('release of a chain', () => {
  it("releases the producer next to its consumer, whose provenance names the payload's sha256", async () => {
    expect((await fresh()).boards.map((b) => b.board)).toEqual(['coreboot-qemu', 'seabios-coreboot']);
    const prov = await readFile(join(release, 'coreboot-qemu/provenance.json'), 'utf8');
    const deps = JSON.parse(prov).predicate.buildDefinition.resolvedDependencies;
    expect(deps).toContainEqual({
      name: 'input/payloads/seabios.elf',
      digest: { sha256: sha256Bytes(PAYLOAD) },
      annotations: { board: 'seabios-coreboot', artifact: 'out/bios.bin.elf' },
    });
    expect(parseProvenance(prov, 'p').build.inputs).toEqual([
      {
        path: 'payloads/seabios.elf',
        sha256: sha256Bytes(PAYLOAD),
        board: 'seabios-coreboot',
        artifact: 'out/bios.bin.elf',
      },
    ]);
  });

  it('ties the input to the released payload, with no rebuild', async () => {
    const described = await provenanceChecks(release, await fresh());
    const consumer = described.find((d) => d.board.board === 'coreboot-qemu');
    expect(consumer?.checks.filter((c) => c.name === 'input')).toEqual([
      {
        name: 'input',
        ok: true,
        message: `input payloads/seabios.elf (board seabios-coreboot, artifact out/bios.bin.elf) is seabios-coreboot/out/bios.bin.elf of this release (sha256 ${sha256Bytes(PAYLOAD)})`,
      },
    ]);
    expect(inputUses(m, described)).toEqual(
      new Map([['seabios-coreboot/out/bios.bin.elf', ['input payloads/seabios.elf of coreboot-qemu']]]),
    );
  });

  it('a payload flipped in the release fails the integrity check naming it as the input of coreboot-qemu', async () => {
    const described = await provenanceChecks(release, m);
    const elf = join(release, 'seabios-coreboot/out/bios.bin.elf');
    const bytes = await readFile(elf);
    bytes[1] = (bytes[1] ?? 0) ^ 0xff;
    await writeFile(elf, bytes);
    try {
      const checks = await integrityChecks(release, m, inputUses(m, described));
      expect(checks.filter((c) => !c.ok).map((c) => c.message)).toEqual([
        `seabios-coreboot/out/bios.bin.elf has sha256 ${sha256Bytes(bytes)}, but the signed hashes.txt says ${sha256Bytes(PAYLOAD)} (the file was changed; it is input payloads/seabios.elf of coreboot-qemu)`,
      ]);
    } finally {
      await writeFile(elf, PAYLOAD);
    }
  });

  it('a release whose payload is not the one its consumer was built with fails, naming the input', async () => {
    const described = await provenanceChecks(release, m);
    const consumer = described.find((d) => d.board.board === 'coreboot-qemu')!;
    const other = sha256Bytes(Buffer.from('another payload'));
    const swapped: ReleaseManifest = {
      ...m,
      boards: m.boards.map((b) =>
        b.board === 'seabios-coreboot'
          ? { ...b, artifacts: b.artifacts.map((a) => ({ ...a, sha256: other })) }
          : b,
      ),
    };
    expect(inputLinkChecks(swapped, consumer.board, consumer.build)).toEqual([
      {
        name: 'input',
        ok: false,
        message: `input payloads/seabios.elf (board seabios-coreboot, artifact out/bios.bin.elf): coreboot-qemu was built with sha256 ${sha256Bytes(PAYLOAD)}, but the release's seabios-coreboot/out/bios.bin.elf has sha256 ${other}`,
      },
    ]);
    // A release of the consumer alone: the input is listed, and a rebuild rebuilds its producer.
    const alone: ReleaseManifest = { ...m, boards: m.boards.filter((b) => b.board === 'coreboot-qemu') };
    const [only] = inputLinkChecks(alone, consumer.board, consumer.build);
    expect(only).toMatchObject({ ok: true });
    expect(only?.message).toContain('board seabios-coreboot is not in this release (a rebuild rebuilds it)');
  });
});
