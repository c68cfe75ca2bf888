/**
 * Doctor check model and aggregation: plain values, no I/O, so the verdict logic is
 * unit-tested with stubbed probes.
 */
import type { DoctorCheckJson } from '../contracts/json.js';
import { ExitCode } from '../util/errors.js';

/** One check's result: the shape `doctor --json` publishes. */
export type CheckResult = DoctorCheckJson;

export interface DoctorReport {
  ok: boolean;
  checks: CheckResult[];
}

export type ProbeOutcome = Omit<CheckResult, 'name' | 'required'>;

export interface Probe {
  name: string;
  required: boolean;
  run: () => Promise<ProbeOutcome>;
  /** Used when `run` throws and the error carries no hint of its own. */
  fix?: string;
}

/** Run every probe (concurrently; a throwing probe is a failed check) and keep the given order. */
export async function runProbes(probes: Probe[]): Promise<DoctorReport> {
  const checks = await Promise.all(
    probes.map(async (p): Promise<CheckResult> => {
      try {
        const o = await p.run();
        // Key order matches the documented JSON shape: name, ok, required, version?, detail, fix?
        return {
          name: p.name,
          ok: o.ok,
          required: p.required,
          ...(o.version !== undefined ? { version: o.version } : {}),
          detail: o.detail,
          ...(o.fix !== undefined ? { fix: o.fix } : {}),
        };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const hint = (err as { hint?: unknown } | null)?.hint;
        const fix = typeof hint === 'string' ? hint : p.fix;
        return { name: p.name, ok: false, required: p.required, detail: message, ...(fix ? { fix } : {}) };
      }
    }),
  );
  return aggregate(checks);
}

export function aggregate(checks: CheckResult[]): DoctorReport {
  return { ok: checks.every((c) => c.ok || !c.required), checks };
}

export function doctorExitCode(report: DoctorReport): number {
  return report.ok ? ExitCode.ok : ExitCode.environment;
}

/** ✓ usable, ✗ required and missing, ! optional and missing (a warning). */
export function markOf(check: CheckResult): '✓' | '✗' | '!' {
  if (check.ok) return '✓';
  return check.required ? '✗' : '!';
}
