/** Doctor verdicts from stubbed probes: which failures block (exit 3), which only warn, and how they render. */
import { describe, expect, it } from 'vitest';
import { renderDoctor } from '../../src/cli/commands/doctor.js';
import { diskProbe, FIX } from '../../src/doctor/probes.js';
import { aggregate, doctorExitCode, markOf, type Probe, runProbes } from '../../src/doctor/report.js';
import { EnvironmentError } from '../../src/util/errors.js';

const ok = (name: string, required: boolean): Probe => ({
  name,
  required,
  run: async () => ({ ok: true, version: '1.0', detail: `${name} works` }),
});
const missing = (name: string, required: boolean, fix: string): Probe => ({
  name,
  required,
  run: async () => ({ ok: false, detail: `${name} missing`, fix }),
});

describe('doctor aggregation', () => {
  it('is ok and exits 0 when every check passes', async () => {
    const report = await runProbes([ok('docker engine', true), ok('nix', true), ok('diffoscope', false)]);
    expect(report.ok).toBe(true);
    expect(doctorExitCode(report)).toBe(0);
    expect(report.checks.map((c) => c.name)).toEqual(['docker engine', 'nix', 'diffoscope']);
  });

  it('only warns (exit 0) when an optional piece is missing', async () => {
    const report = await runProbes([
      ok('docker engine', true),
      ok('nix', true),
      missing('diffoscope', false, FIX.diffoscope),
    ]);
    expect(report.ok).toBe(true);
    expect(doctorExitCode(report)).toBe(0);
    const d = report.checks[2];
    expect(d && markOf(d)).toBe('!');
    expect(d?.fix).toBe('apt-get install -y diffoscope-minimal');
  });

  it('fails with exit 3 when a required piece is missing, keeping the other results', async () => {
    const report = await runProbes([missing('docker engine', true, FIX.dockerStart), ok('nix', true)]);
    expect(report.ok).toBe(false);
    expect(doctorExitCode(report)).toBe(3);
    expect(report.checks.map((c) => [c.name, c.ok, markOf(c)])).toEqual([
      ['docker engine', false, '✗'],
      ['nix', true, '✓'],
    ]);
  });

  it('turns a throwing probe into a failed check, preferring the error hint over the probe fix', async () => {
    const throwsTyped: Probe = {
      name: 'nix',
      required: true,
      fix: 'fallback fix',
      run: async () => {
        throw new EnvironmentError('nix is not installed', 'apt-get install -y nix-bin');
      },
    };
    const throwsPlain: Probe = {
      name: 'qemu',
      required: false,
      fix: 'apt-get install -y qemu-system-x86',
      run: async () => {
        throw new Error('boom');
      },
    };
    const report = await runProbes([throwsTyped, throwsPlain]);
    expect(report.checks).toEqual([
      {
        name: 'nix',
        ok: false,
        required: true,
        detail: 'nix is not installed',
        fix: 'apt-get install -y nix-bin',
      },
      { name: 'qemu', ok: false, required: false, detail: 'boom', fix: 'apt-get install -y qemu-system-x86' },
    ]);
    expect(doctorExitCode(report)).toBe(3);
  });

  it('emits the documented JSON shape in key order', async () => {
    const report = await runProbes([ok('nix', true)]);
    expect(Object.keys(report)).toEqual(['ok', 'checks']);
    expect(Object.keys(report.checks[0] ?? {})).toEqual(['name', 'ok', 'required', 'version', 'detail']);
  });

  it('aggregate() ignores optional failures', () => {
    expect(aggregate([]).ok).toBe(true);
    expect(aggregate([{ name: 'x', ok: false, required: false, detail: '' }]).ok).toBe(true);
    expect(aggregate([{ name: 'x', ok: false, required: true, detail: '' }]).ok).toBe(false);
  });
});

describe('doctor rendering', () => {
  it('prints one line per check with its mark, the fix under failures, and a verdict', async () => {
    const report = await runProbes([
      missing('docker engine', true, FIX.dockerStart),
      ok('nix', true),
      missing('diffoscope', false, FIX.diffoscope),
    ]);
    const lines = renderDoctor(report);
    expect(lines[0]).toMatch(/^✗ docker engine {2}docker engine missing$/);
    expect(lines[1]).toMatch(/→ dockerd > \/var\/log\/dockerd\.log 2>&1 &$/);
    expect(lines[2]).toMatch(/^✓ nix/);
    expect(lines[3]).toMatch(/^! diffoscope/);
    expect(lines[4]).toMatch(/→ apt-get install -y diffoscope-minimal$/);
    expect(lines.at(-1)).toContain('not ready: 1 required check failed');
  });
});

describe('free disk probe', () => {
  it('warns (not fails) below the threshold and walks up to an existing folder', async () => {
    const probe = diskProbe('/tmp/does/not/exist/.reprorom', Number.MAX_SAFE_INTEGER);
    expect(probe.required).toBe(false);
    const r = await probe.run();
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/GiB free at \/tmp/);
    const fine = await diskProbe('/tmp/does/not/exist', 1).run();
    expect(fine.ok).toBe(true);
  });
});
