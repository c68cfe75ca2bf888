/** Boot smoke tests with the real QEMU: a reproducible ROM must also start. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, probeTools, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

const probes = [
  await probeEngine(),
  await probeNix(),
  await probeTools(
    'QEMU',
    ['qemu-system-x86_64', 'qemu-system-riscv64'],
    'apt-get install -y qemu-system-x86 qemu-system-misc',
  ),
];
const qemuLeft = async () => (await execa('pgrep', ['-f', 'qemu-system'], { reject: false })).stdout.trim();

describe.skipIf(probes.some(skipUnlessReal))('boot checks (real QEMU)', () => {
  let ws = '';
  beforeAll(async () => {
    if (inCi) for (const p of probes) requireReal(p);
    ws = await copyWorkspace('rr-boot-');
  });

  it('boots SeaBIOS and U-Boot and reads their banners from the emulated machines', async () => {
    const build = await runCli(['build', 'seabios-qemu', 'uboot-qemu-riscv64', '--jobs', '2', '-w', ws]);
    expect(build.exitCode, build.stderr).toBe(0);
    const sea = await runCli(['boot', 'seabios-qemu', '-w', ws, '--json']);
    expect(sea.exitCode, sea.stderr).toBe(0);
    expect(JSON.parse(sea.stdout).boots[0].matched).toBe('SeaBIOS (version 1.16.2');
    const log = await readFile(JSON.parse(sea.stdout).boots[0].log, 'utf8');
    expect(log).toContain('SeaBIOS (version 1.16.2-reprorom)');
    const ub = await runCli(['boot', 'uboot-qemu-riscv64', '-w', ws]);
    expect(ub.exitCode, ub.stderr).toBe(0);
    expect(ub.stdout).toMatch(/boot ok — booted: "U-Boot 2023\.01"/);
    expect(await qemuLeft()).toBe('');
  });

  it('a truncated ROM fails within its time limit, is recorded, and leaves no QEMU behind', async () => {
    const started = Date.now();
    const r = await runCli(['build', 'seabios-qemu-truncated', '--boot', '--json', '-w', ws]);
    expect(r.exitCode).toBe(4);
    const json = JSON.parse(r.stdout);
    const run = json.boards[0].runs[0];
    expect(run.boot.ok).toBe(false);
    expect(run.boot.message).toMatch(/did not appear on debugcon within 15 s; QEMU was killed/);
    const manifest = JSON.parse(await readFile(join(run.dir, 'manifest.json'), 'utf8'));
    expect(manifest.boot).toMatchObject({ ok: false, matched: null });
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(await qemuLeft()).toBe('');
  });

  it('a board without a boot check is a usage error', async () => {
    const r = await runCli(['boot', 'seabios-qemu-naive', '-w', ws]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/declares no boot: check/);
  });
});
