/**
 * Issue 18, step 3: boards that feed boards with real firmware. SeaBIOS configured for
 * coreboot (seabios-coreboot) is the ELF payload of coreboot for QEMU i440fx (coreboot-qemu).
 * One `--runs 2 --boot` build of the chain (coreboot takes minutes on 2 cores): both boards are
 * reproducible across varied runs, and every coreboot ROM boots into SeaBIOS.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, type RealProbe, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

async function probeQemu(): Promise<RealProbe> {
  try {
    await execa('qemu-system-x86_64', ['--version']);
    return { what: 'QEMU', ok: true, reason: '' };
  } catch (err) {
    return { what: 'QEMU (apt-get install -y qemu-system-x86)', ok: false, reason: String(err) };
  }
}

const probes = [await probeEngine(), await probeNix(), await probeQemu()];

interface BuildJson {
  boards: Array<{
    board: string;
    runs: Array<{
      index: number;
      ok: boolean;
      dir: string | null;
      boot?: { ok: boolean; matched: string | null };
    }>;
  }>;
  comparison: { ok: boolean; artifacts: Array<{ name: string; verdict: string }> } | null;
}

describe.skipIf(probes.some(skipUnlessReal))(
  'coreboot with a SeaBIOS payload (real engine, real QEMU)',
  () => {
    let ws = '';
    beforeAll(async () => {
      if (inCi) for (const p of probes) requireReal(p);
      ws = await copyWorkspace('rr-coreboot-');
    });

    it('builds the chain twice, reproducibly, and each coreboot ROM boots into SeaBIOS', async () => {
      // Two runs of SeaBIOS and of coreboot, one after the other: well within 30 minutes even under load.
      const r = await runCli(['build', 'coreboot-qemu', '--runs', '2', '--boot', '--json', '-w', ws], {
        timeoutMs: 1_800_000,
      });
      expect(r.exitCode, r.stderr).toBe(0);
      const json = JSON.parse(r.stdout) as BuildJson;
      // build BOARD builds what it needs first.
      expect(json.boards.map((b) => b.board)).toEqual(['seabios-coreboot', 'coreboot-qemu']);
      expect(json.comparison?.ok).toBe(true);
      const verdicts = Object.fromEntries(json.comparison!.artifacts.map((a) => [a.name, a.verdict]));
      expect(verdicts).toEqual({
        'seabios-coreboot/bios.bin.elf': 'reproducible',
        'coreboot-qemu/coreboot.rom': 'reproducible',
      });
      const coreboot = json.boards.find((b) => b.board === 'coreboot-qemu')!;
      expect(coreboot.runs).toHaveLength(2);
      for (const run of coreboot.runs) {
        expect(run.ok).toBe(true);
        // coreboot's banner first, then SeaBIOS's, on the serial port.
        expect(run.boot?.ok).toBe(true);
        expect(run.boot?.matched).toMatch(
          /^coreboot-\S* [\s\S]*bootblock starting[\s\S]*SeaBIOS \(version 1\.16\.2$/,
        );
        const manifest = JSON.parse(await readFile(join(run.dir!, 'manifest.json'), 'utf8'));
        // The payload came from the producer's run, recorded with its hash.
        expect(JSON.stringify(manifest.inputs)).toContain('payloads/seabios.elf');
      }
    }, 1_900_000);
  },
);
