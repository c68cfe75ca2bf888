/**
 * The create request for a build container: hardened by default (no network, every
 * capability dropped, no new privileges, host-identifying paths masked) and labelled.
 */

import type Dockerode from 'dockerode';
import { MASKED_PATHS, READONLY_PATHS } from './hostMasks.js';
import { ENGINE_LABEL, OWNER_LABEL, ownerId, RUN_LABEL, type RunSpec } from './port.js';

/**
 * The engine's create request for a run: hardened by default, and labelled so that leftovers
 * can be found (ENGINE_LABEL), tied to their run (RUN_LABEL) and to the process that made them
 * (OWNER_LABEL: an orphan sweep, or a test counting only its own CLI's containers).
 */
export function createOptions(spec: RunSpec, runId: string): Dockerode.ContainerCreateOptions {
  const env = Object.entries(spec.env ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
  return {
    name: spec.name,
    Image: spec.image,
    Cmd: spec.cmd,
    Entrypoint: spec.entrypoint,
    Env: env,
    User: spec.user,
    WorkingDir: spec.workingDir,
    Hostname: spec.hostname,
    Domainname: spec.domainname,
    Labels: { ...spec.labels, [ENGINE_LABEL]: '1', [RUN_LABEL]: runId, [OWNER_LABEL]: ownerId() },
    AttachStdin: Boolean(spec.interactive || spec.stdin),
    AttachStdout: true,
    AttachStderr: true,
    Tty: spec.interactive?.tty ?? false,
    OpenStdin: Boolean(spec.interactive || spec.stdin),
    StdinOnce: Boolean(spec.interactive),
    HostConfig: {
      AutoRemove: false,
      NetworkMode: spec.network ?? 'none',
      CapDrop: spec.capDrop ?? ['ALL'],
      CapAdd: spec.capAdd,
      SecurityOpt: spec.securityOpt ?? ['no-new-privileges'],
      ReadonlyRootfs: spec.readOnlyRootfs ?? false,
      Memory: spec.memoryBytes,
      // Same as Memory: no swap on top of the limit, so a limit means the same on every host.
      MemorySwap: spec.memoryBytes,
      PidsLimit: spec.pidsLimit,
      CpusetCpus: spec.cpusetCpus,
      Tmpfs: spec.tmpfs,
      Mounts: (spec.mounts ?? []).map((m) => ({
        Type: 'bind' as const,
        Source: m.source,
        Target: m.target,
        ReadOnly: m.readOnly,
      })),
      // What identifies the host stays out of every container (hostMasks.ts).
      MaskedPaths: [...MASKED_PATHS],
      ReadonlyPaths: [...READONLY_PATHS],
      // Its own cgroup root: /proc/self/cgroup no longer carries the container's ID (cgroup v1
      // hosts). Spread in because dockerode's types lack this API 1.41 field.
      ...{ CgroupnsMode: 'private' },
    },
  };
}
