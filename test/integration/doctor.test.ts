/**
 * `reprorom doctor` as a user runs it (node bin/reprorom.js, built by `npm test`): on this
 * machine the engine and nix are usable; pointed at a socket with no engine, it exits 3 and
 * prints the command that starts one. Under CI a missing engine/nix fails instead of skipping.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/doctor/report.js';
import { runCli } from '../helpers/cli.js';
import { probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';

const engine = await probeEngine();
const nixProbe = await probeNix();

describe('reprorom doctor', () => {
  // Skipped only outside CI when this machine lacks the engine or nix (see test/helpers/real.ts).
  it.skipIf(skipUnlessReal(engine) || skipUnlessReal(nixProbe))(
    '--json reports the engine and nix usable',
    async () => {
      requireReal(engine);
      requireReal(nixProbe);
      const r = await runCli(['doctor', '--json']);
      expect(r.stderr).toBe('');
      const report = JSON.parse(r.stdout) as DoctorReport;
      const byName = new Map(report.checks.map((c) => [c.name, c]));
      expect(byName.get('docker engine')).toMatchObject({ ok: true, required: true });
      expect(byName.get('docker engine')?.detail).toMatch(/API 1\.\d+/);
      expect(byName.get('nix')).toMatchObject({ ok: true, required: true });
      expect(byName.get('nix')?.version).toMatch(/^\d+\.\d+/);
      expect(byName.get('free disk')?.required).toBe(false);
      expect(byName.get('diffoscope')?.required).toBe(false);
      expect(report.ok).toBe(true);
      expect(r.exitCode).toBe(0);
    },
  );

  it('exits 3 with the start command when DOCKER_HOST points at no engine', async () => {
    const env = { DOCKER_HOST: 'unix:///nonexistent.sock' };
    const json = await runCli(['doctor', '--json'], { env });
    expect(json.exitCode).toBe(3);
    const report = JSON.parse(json.stdout) as DoctorReport;
    expect(report.ok).toBe(false);
    const eng = report.checks.find((c) => c.name === 'docker engine');
    expect(eng).toMatchObject({ ok: false, required: true });
    expect(eng?.detail).toContain('unix:///nonexistent.sock');
    expect(eng?.fix).toContain('dockerd > /var/log/dockerd.log 2>&1 &');

    const human = await runCli(['doctor'], { env });
    expect(human.exitCode).toBe(3);
    expect(human.stdout).toMatch(/^✗ docker engine .*nonexistent\.sock/m);
    expect(human.stdout).toMatch(/→ dockerd > \/var\/log\/dockerd\.log 2>&1 &/);
    expect(human.stdout).toContain('not ready');
  });

  it('exits 3 with the install command when nix is not on PATH', async () => {
    // A PATH with nothing in it but an empty folder: no nix (node is started by absolute path).
    const empty = await mkdtemp(join(tmpdir(), 'rr-empty-path-'));
    const r = await runCli(['doctor', '--json'], { env: { PATH: empty } });
    await rm(empty, { recursive: true, force: true });
    expect(r.exitCode).toBe(3);
    const report = JSON.parse(r.stdout) as DoctorReport;
    const nixCheck = report.checks.find((c) => c.name === 'nix');
    expect(nixCheck).toMatchObject({ ok: false, required: true });
    expect(nixCheck?.fix).toContain('apt-get install -y nix-bin');
    expect(nixCheck?.fix).toContain('experimental-features = nix-command flakes');
  });
});
