/**
 * Issue 18, step 3: boards that feed boards with real firmware. SeaBIOS configured for
 * coreboot (seabios-coreboot) is the ELF payload of coreboot for QEMU i440fx (coreboot-qemu);
 * coreboot-qemu-naive is the same build without BUILD_TIMELESS. coreboot takes minutes a run on
 * 2 cores, so ONE build shares the payload: two varied runs of the three boards, coreboot-qemu
 * reproducible and both of its ROMs booted into SeaBIOS, the naive ROM a mismatch naming the
 * date from its diff report alone. release, sign and verify of a real firmware chain (the
 * released input in the provenance, a tampered input named) are in heads.test.ts; verify's
 * rebuild of a chain and its edge cases, with tiny boards, in chain.test.ts.
 */
import { readFile, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, probeTools, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

const probes = [
  await probeEngine(),
  await probeNix(),
  await probeTools('QEMU', ['qemu-system-x86_64'], 'apt-get install -y qemu-system-x86'),
];

/** coreboot runs take 2-3 minutes on 2 quiet cores, and many times that on a loaded machine. */
const LONG = 3_600_000;

// biome-ignore lint/suspicious/noExplicitAny: JSON read back in tests
type Json = any;

describe.skipIf(probes.some(skipUnlessReal))(
  'coreboot with a SeaBIOS payload, fixed and naive (real engine, real QEMU)',
  () => {
    let ws = '';

    beforeAll(async () => {
      if (inCi) for (const p of probes) requireReal(p);
      ws = await copyWorkspace('rr-coreboot-');
    });
    afterAll(async () => {
      if (ws) await rm(ws, { recursive: true, force: true });
    });

    it(
      'coreboot-qemu is reproducible and each ROM boots into SeaBIOS; coreboot-qemu-naive (no BUILD_TIMELESS) is an expected mismatch whose report names the build date',
      async () => {
        // No culprit search (it would rebuild coreboot once per variation): the diff report alone names the date.
        const r = await runCli(
          [
            'build',
            'coreboot-qemu',
            'coreboot-qemu-naive',
            '--runs',
            '2',
            '--jobs',
            '2',
            '--no-explain',
            '--json',
            '-w',
            ws,
          ],
          { timeoutMs: LONG },
        );
        expect(r.exitCode, r.stderr).toBe(0);
        const json = JSON.parse(r.stdout) as Json;
        const rows = Object.fromEntries(json.comparison.artifacts.map((a: Json) => [a.name, a]));
        // The shared payload is built once per run, before both consumers.
        expect(r.stderr.match(/\[seabios-coreboot\] run \d\/2 started/g)).toHaveLength(2);
        expect(rows['seabios-coreboot/bios.bin.elf'].verdict).toBe('reproducible');
        expect(rows['coreboot-qemu/coreboot.rom'].verdict).toBe('reproducible');
        const naive = rows['coreboot-qemu-naive/coreboot.rom'];
        expect(naive.verdict).toBe('mismatch');
        expect(naive.expectedMismatch).toMatch(/BUILD_TIMELESS/);

        // Every fixed ROM boots from flash alone: coreboot's banner, then SeaBIOS's.
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
