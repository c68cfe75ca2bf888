/**
 * Whether the engine takes reprorom's seccomp profile (see engine/seccomp.ts). A rootless or
 * remote engine may refuse a custom profile; the run then builds without it and records the
 * `aslr` variation as not applied, with the engine's words as the reason.
 */
import type { Engine } from '../engine/port.js';
import { seccompSecurityOpt } from '../engine/seccomp.js';

export const ASLR_SECURITY_OPT = ['no-new-privileges', seccompSecurityOpt()];

/** undefined when the engine creates a container with the profile; else why not. */
export async function seccompRefusal(
  engine: Engine,
  image: string,
  runId: string,
): Promise<string | undefined> {
  let id: string | undefined;
  try {
    id = await engine.createContainer({
      image,
      cmd: ['true'],
      network: 'none',
      securityOpt: ASLR_SECURITY_OPT,
      runId,
      labels: { 'reprorom.probe': 'seccomp' },
    });
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return `the engine refused reprorom's seccomp profile (needed for setarch -R): ${message.split('\n')[0]}`;
  } finally {
    if (id !== undefined) await engine.removeContainer(id).catch(() => {});
  }
}
