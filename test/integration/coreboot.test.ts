/**
 * Issue 18, step 3: boards that feed boards with real firmware. SeaBIOS configured for
 * coreboot (seabios-coreboot) is the ELF payload of coreboot for QEMU i440fx (coreboot-qemu).
 * coreboot takes minutes a run on 2 cores, so the builds are shared: one `release` of the chain
 * (two varied runs of each board) is the reproducibility check, its runs are booted, and the
 * release is signed and verified (one more run of each board). A payload flipped in the release
 * is named as coreboot's input: without a rebuild, and with one that stops before coreboot. The
 * naive build (no BUILD_TIMELESS) is a mismatch naming the date, from its diff report alone.
 * Tiny chains (culprits, verify edge cases) are in test/integration/chain.test.ts.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, probeTools, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

const probes = [
  await probeEngine(),
  await probeNix(),
  await probeTools('QEMU', ['qemu-system-x86_64'], 'apt-get install -y qemu-system-x86'),
  await probeTools(
    'ssh-keygen',
    [['sh', '-c', 'command -v ssh-keygen']],
    'apt-get install -y openssh-client',
  ),
];

/** coreboot runs take 2-3 minutes on 2 quiet cores, and many times that on a loaded machine. */
const LONG = 3_600_000;
const PAYLOAD = 'seabios-coreboot/out/bios.bin.elf';
const INPUT = 'input payloads/seabios.elf (board seabios-coreboot, artifact out/bios.bin.elf)';
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// biome-ignore lint/suspicious/noExplicitAny: JSON read back in tests
type Json = any;

describe.skipIf(probes.some(skipUnlessReal))(
  'coreboot with a SeaBIOS payload (real engine, real QEMU)',
  () => {
    let ws = '';
    let tmp = '';
    let release = '';
    let key = '';
    const sha256 = async (file: string) => (await execa('sha256sum', [file])).stdout.split(' ')[0] as string;

    beforeAll(async () => {
      if (inCi) for (const p of probes) requireReal(p);
      ws = await copyWorkspace('rr-coreboot-');
      tmp = await mkdtemp(join(tmpdir(), 'rr-coreboot-release-'));
      release = join(tmp, 'release');
      key = join(tmp, 'signer');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'signer', '-f', key]);
    });
    afterAll(async () => {
      if (tmp) await rm(tmp, { recursive: true, force: true });
      if (ws) await rm(ws, { recursive: true, force: true });
    });

    it(
      'release coreboot-qemu builds the chain twice, reproducibly, releases SeaBIOS with it, and each ROM boots into SeaBIOS',
      async () => {
        const r = await runCli(
          ['release', 'coreboot-qemu', '--jobs', '2', '--json', '-w', ws, '--out', release],
          {
            timeoutMs: LONG,
          },
        );
        expect(r.exitCode, r.stderr).toBe(0);
        const json = JSON.parse(r.stdout) as Json;
        // release BOARD builds what it needs first, and both are reproducible across varied runs.
        const verdicts = Object.fromEntries(json.comparison.artifacts.map((a: Json) => [a.name, a.verdict]));
        expect(verdicts).toEqual({
          'seabios-coreboot/bios.bin.elf': 'reproducible',
          'coreboot-qemu/coreboot.rom': 'reproducible',
        });
        // The payload is released with the ROM, and coreboot's provenance names its sha256.
        const manifest = JSON.parse(await readFile(join(release, 'manifest.json'), 'utf8')) as Json;
        expect(manifest.boards.map((b: Json) => b.board)).toEqual(['coreboot-qemu', 'seabios-coreboot']);
        const payloadSha = await sha256(join(release, PAYLOAD));
        expect(manifest.boards[1].artifacts[0]).toMatchObject({ path: PAYLOAD, sha256: payloadSha });
        const prov = JSON.parse(
          await readFile(join(release, 'coreboot-qemu/provenance.json'), 'utf8'),
        ) as Json;
        expect(prov.predicate.buildDefinition.resolvedDependencies).toContainEqual({
          name: 'input/payloads/seabios.elf',
          digest: { sha256: payloadSha },
          annotations: { board: 'seabios-coreboot', artifact: 'out/bios.bin.elf' },
        });
        // Every coreboot ROM the release was made from boots: coreboot's banner, then SeaBIOS's.
        const boot = await runCli(['boot', 'coreboot-qemu', basename(json.runDir), '--json', '-w', ws], {
          timeoutMs: 900_000,
        });
        expect(boot.exitCode, boot.stdout + boot.stderr).toBe(0);
        const boots = (JSON.parse(boot.stdout) as Json).boots as Json[];
        expect(boots).toHaveLength(2);
        for (const b of boots) {
          expect(b.ok).toBe(true);
          expect(b.matched).toMatch(
            /^coreboot-\S* [\s\S]*bootblock starting[\s\S]*SeaBIOS \(version 1\.16\.2$/,
          );
        }
        const s = await runCli(['sign', release, '--key', key]);
        expect(s.exitCode, s.stderr).toBe(0);
      },
      LONG,
    );

    it(
      'verify rebuilds the chain (SeaBIOS once, then coreboot with it) and passes',
      async () => {
        const r = await runCli(['verify', release, '--key', `${key}.pub`, '-w', ws], { timeoutMs: LONG });
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toContain(`ok   input: ${INPUT} is ${PAYLOAD} of this release`);
        expect(r.stdout).toMatch(/^coreboot-qemu:\n(?: {2}ok .*\n)+ {2}reproduced coreboot\.rom /m);
        expect(r.stdout).toMatch(/^seabios-coreboot:\n(?: {2}ok .*\n)+ {2}reproduced bios\.bin\.elf /m);
        expect(r.stderr.match(/\[seabios-coreboot\] run 1\/1 started/g)).toHaveLength(1);
        expect(r.stderr.match(/\[coreboot-qemu\] run 1\/1 started/g)).toHaveLength(1);
      },
      LONG,
    );

    it(
      'a byte of the payload flipped in the release fails verify, naming the payload',
      async () => {
        const flipped = join(tmp, 'flipped');
        await cp(release, flipped, { recursive: true });
        const elf = join(flipped, PAYLOAD);
        const bytes = await readFile(elf);
        bytes[4096] = (bytes[4096] ?? 0) ^ 0x01;
        await writeFile(elf, bytes);
        const r = await runCli(['verify', flipped, '--no-rebuild', '--key', `${key}.pub`], {
          env: { DOCKER_HOST: 'tcp://127.0.0.1:9' },
        });
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toMatch(
          new RegExp(
            `integrity check failed: ${esc(PAYLOAD)} has sha256 [0-9a-f]{64}, but the signed hashes\\.txt says [0-9a-f]{64} \\(the file was changed; it is input payloads/seabios\\.elf of coreboot-qemu\\)`,
          ),
        );

        // A publisher who built coreboot with that payload and signed it all: the release is
        // consistent, and only rebuilding SeaBIOS shows the payload is not what its source gives.
        // coreboot itself is not rebuilt: its ROM could not match.
        const newSha = await sha256(elf);
        const oldSha = await sha256(join(release, PAYLOAD));
        const files = [
          'hashes.txt',
          'seabios-coreboot/hashes.txt',
          'seabios-coreboot/provenance.json',
          'coreboot-qemu/provenance.json',
        ];
        for (const file of files)
          await writeFile(
            join(flipped, file),
            (await readFile(join(flipped, file), 'utf8')).replaceAll(oldSha, newSha),
          );
        const manPath = join(flipped, 'manifest.json');
        const manifest = JSON.parse(await readFile(manPath, 'utf8')) as Json;
        manifest.boards[1].artifacts[0].sha256 = newSha;
        for (const b of manifest.boards) b.provenance.sha256 = await sha256(join(flipped, b.provenance.path));
        await writeFile(manPath, `${JSON.stringify(manifest, null, 2)}\n`);
        expect((await runCli(['sign', flipped, '--key', key])).exitCode).toBe(0);
        const v = await runCli(['verify', flipped, '--key', `${key}.pub`, '-w', ws], { timeoutMs: LONG });
        expect(v.exitCode, v.stdout + v.stderr).toBe(1);
        expect(v.stderr).not.toContain('signature check failed');
        expect(v.stderr).toContain(
          `reprorom: coreboot-qemu: input check failed: ${INPUT}: the release was built with sha256 ${newSha}, the rebuild of board seabios-coreboot gave ${oldSha} (so coreboot-qemu itself was not rebuilt`,
        );
        expect(v.stderr).toContain('reprorom: seabios-coreboot: bios.bin.elf does not match (mismatch)');
        expect(v.stderr).not.toMatch(/\[coreboot-qemu\] run 1\/1 started/);
      },
      LONG,
    );

    it(
      'coreboot-qemu-naive (no BUILD_TIMELESS) is an expected mismatch whose report names the build date',
      async () => {
        // No culprit search (it would rebuild coreboot once per variation): the diff report alone names the date.
        const r = await runCli(
          ['build', 'coreboot-qemu-naive', '--runs', '2', '--jobs', '2', '--no-explain', '--json', '-w', ws],
          { timeoutMs: LONG },
        );
        expect(r.exitCode, r.stderr).toBe(0);
        const json = JSON.parse(r.stdout) as Json;
        const rows = Object.fromEntries(json.comparison.artifacts.map((a: Json) => [a.name, a]));
        expect(rows['seabios-coreboot/bios.bin.elf'].verdict).toBe('reproducible');
        const naive = rows['coreboot-qemu-naive/coreboot.rom'];
        expect(naive.verdict).toBe('mismatch');
        expect(naive.expectedMismatch).toMatch(/BUILD_TIMELESS/);
        const report = json.comparison.reports.find(
          (x: Json) => x.artifact === 'coreboot-qemu-naive/coreboot.rom',
        );
        // `date`'s output, as coreboot's genbuild_h.sh stamps it: one per run, and they differ.
        const DATE =
          /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d{2}:\d{2}:\d{2} UTC \d{4}$/;
        expect(report.stamps.a).toEqual(expect.arrayContaining([expect.stringMatching(DATE)]));
        expect(report.stamps.b).toEqual(expect.arrayContaining([expect.stringMatching(DATE)]));
        expect(report.stamps.a[0]).not.toBe(report.stamps.b[0]);
        const text = await readFile(report.text, 'utf8');
        expect(text).toContain('a date or time differs (a build time stamp):');
        expect(text).toContain(report.stamps.a[0]);
        // The table a person reads says so in its cause column.
        const cmp = await runCli(['compare', json.runDir, '--allow-expected', '-w', ws]);
        expect(cmp.exitCode, cmp.stdout + cmp.stderr).toBe(0);
        expect(cmp.stdout).toContain('a date or time differs (a build time stamp):');
        expect(cmp.stdout).toContain(report.stamps.b[0]);
      },
      LONG,
    );
  },
);
