/**
 * Gates for integration tests that need the real engine or nix. Outside CI a missing
 * piece skips the test (with the reason); under CI=true it must fail, never skip:
 * call `requireReal(probe)` in a beforeAll and use `skipUnlessReal(probe)` with it.skipIf.
 */
import { execa } from 'execa';
import { connectEngine } from '../../src/engine/docker.js';

export interface RealProbe {
  what: string;
  ok: boolean;
  reason: string;
}

export const inCi = Boolean(process.env['CI']) && process.env['CI'] !== 'false';

export async function probeEngine(): Promise<RealProbe> {
  try {
    const v = await connectEngine({ timeoutMs: 5000 }).version();
    return { what: 'Docker engine', ok: true, reason: `Docker ${v.version}` };
  } catch (err) {
    return { what: 'Docker engine', ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

export async function probeNix(): Promise<RealProbe> {
  try {
    const r = await execa('nix', ['--version'], { stdin: 'ignore' });
    return { what: 'nix', ok: true, reason: r.stdout };
  } catch (err) {
    return {
      what: 'nix',
      ok: false,
      reason: err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err),
    };
  }
}

/**
 * Host tools a test runs, each asked once: a name alone runs `NAME --version`, a list runs as
 * given. Missing or failing, the probe names them with `hint` (how to install them).
 */
export async function probeTools(
  what: string,
  commands: ReadonlyArray<string | readonly string[]>,
  hint: string,
): Promise<RealProbe> {
  try {
    for (const c of commands) {
      const [cmd = '', ...args] = typeof c === 'string' ? [c, '--version'] : c;
      await execa(cmd, args, { stdin: 'ignore' });
    }
    return { what, ok: true, reason: '' };
  } catch (err) {
    return {
      what: `${what} (${hint})`,
      ok: false,
      reason: err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err),
    };
  }
}

/** True when the test must be skipped: the piece is missing and this is not CI. */
export function skipUnlessReal(p: RealProbe): boolean {
  return !p.ok && !inCi;
}

/** Throws (failing the suite) when the piece is missing; under CI this is what turns "skip" into "fail". */
export function requireReal(p: RealProbe): void {
  if (!p.ok) {
    throw new Error(
      `${p.what} is required for this test (CI=${process.env['CI'] ?? ''}): ${p.reason}; run \`reprorom doctor\``,
    );
  }
}
