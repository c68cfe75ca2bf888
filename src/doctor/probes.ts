/**
 * The real probes behind `reprorom doctor`: engine, nix (+ offline flakes), diffoscope,
 * free disk in the state folder, and optional helper tools. Each failure carries the
 * exact command that installs or starts the missing piece.
 */
import { constants } from 'node:fs';
import { access, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { engineEndpoint } from '../engine/connection.js';
import { connectEngine } from '../engine/docker.js';
import { isRemoteEndpoint, NOT_DOCKER_HINT, remoteEngineHint } from '../engine/errors.js';
import { NIX_OFFLINE_CONFIG, nix, nixVersion } from '../nix/nix.js';
import { runOptionalTool } from '../util/tool.js';
import type { Probe, ProbeOutcome } from './report.js';

export const FIX = {
  dockerInstall: 'apt-get install -y docker.io',
  dockerStart: 'dockerd > /var/log/dockerd.log 2>&1 &',
  nixInstall: 'apt-get install -y nix-bin',
  nixConf: `mkdir -p /etc/nix && printf '%s\\n' ${NIX_OFFLINE_CONFIG.split('\n')
    .filter((l) => !l.startsWith('warn-dirty'))
    .map((l) => `'${l}'`)
    .join(' ')} >> /etc/nix/nix.conf`,
  diffoscope: 'apt-get install -y diffoscope-minimal',
} as const;

/** Below this, builds of a real toolchain image start failing for lack of room. */
export const MIN_FREE_BYTES = 5 * 1024 ** 3;

export async function onPath(cmd: string, pathEnv = process.env['PATH'] ?? ''): Promise<boolean> {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    try {
      await access(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

export function engineProbe(timeoutMs = 5000): Probe {
  return {
    name: 'docker engine',
    required: true,
    fix: `${FIX.dockerStart}`,
    run: async () => {
      const endpoint = engineEndpoint();
      try {
        const v = await connectEngine({ timeoutMs }).version();
        return {
          ok: true,
          version: v.version,
          detail: `Docker ${v.version} (API ${v.apiVersion}, ${v.os}/${v.arch}) at ${endpoint}`,
        };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return { ok: false, detail: message, fix: await engineFix(err) };
      }
    },
  };
}

/** Permission problems need a group, a missing daemon needs starting, a missing package installing. */
async function engineFix(err: unknown): Promise<string> {
  const hint = (err as { hint?: unknown } | null)?.hint;
  if (
    typeof hint === 'string' &&
    (hint.includes('usermod') || hint === NOT_DOCKER_HINT || hint.includes('DOCKER_HOST to '))
  )
    return hint;
  const host = process.env['DOCKER_HOST'];
  if (host && isRemoteEndpoint(host)) return remoteEngineHint(host);
  const start = (await onPath('dockerd')) ? FIX.dockerStart : `${FIX.dockerInstall} && ${FIX.dockerStart}`;
  return host ? `${start}   (or point DOCKER_HOST at a running engine; it is ${host})` : start;
}

/** nix present, and a local flake evaluates with the offline config (no registry, no substituters). */
export function nixProbe(): Probe {
  return {
    name: 'nix',
    required: true,
    fix: FIX.nixInstall,
    run: async () => {
      let version: string;
      try {
        version = await nixVersion();
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return { ok: false, detail: message, fix: `${FIX.nixInstall} && ${FIX.nixConf}` };
      }
      const dir = await mkdtemp(join(tmpdir(), 'reprorom-doctor-'));
      try {
        await writeFile(join(dir, 'flake.nix'), '{ outputs = _: { answer = 1 + 1; }; }\n');
        await writeFile(join(dir, 'flake.lock'), '{"nodes":{"root":{}},"root":"root","version":7}\n');
        let answer: string;
        try {
          answer = await nix(['eval', '--json', `path:${dir}#answer`]);
        } catch (err) {
          return {
            ok: false,
            version,
            detail: `nix ${version} cannot evaluate a local flake offline: ${err instanceof Error ? err.message : String(err)}`,
            fix: FIX.nixConf,
          };
        }
        if (answer.trim() !== '2') {
          return { ok: false, version, detail: `nix evaluated 1 + 1 to ${answer}`, fix: FIX.nixConf };
        }
        return { ok: true, version, detail: `nix ${version}, flakes evaluate offline` };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** An optional tool: missing is a warning with its install command. */
export function toolProbe(name: string, cmd: string, args: string[], fix: string, purpose: string): Probe {
  return {
    name,
    required: false,
    fix,
    run: async (): Promise<ProbeOutcome> => {
      const r = await runOptionalTool(cmd, args, { timeoutMs: 30_000, install: fix });
      if (r === undefined) return { ok: false, detail: `${cmd} not found (${purpose})`, fix };
      if (r.exitCode !== 0) {
        const said = r.stderr.split('\n').find((l) => l.trim() !== '') ?? r.killed ?? `exit ${r.exitCode}`;
        return { ok: false, detail: `${cmd} does not run: ${said}`, fix };
      }
      const text = `${r.stdout}\n${r.stderr}`;
      const version = /\b(\d+(?:\.\d+)*)\b/.exec(text)?.[1];
      return {
        ok: true,
        ...(version ? { version } : {}),
        detail: `${cmd}${version ? ` ${version}` : ''} (${purpose})`,
      };
    },
  };
}

/** Free space where the state folder is (or would be); a warning below MIN_FREE_BYTES. */
export function diskProbe(stateDir: string, minFree = MIN_FREE_BYTES): Probe {
  return {
    name: 'free disk',
    required: false,
    run: async () => {
      const where = await nearestExisting(resolve(stateDir));
      const s = await statfs(where);
      const free = s.bavail * s.bsize;
      const detail = `${gib(free)} free at ${where}`;
      if (free < minFree) {
        return {
          ok: false,
          detail: `${detail} (under ${gib(minFree)})`,
          fix: `free space on the file system of ${where}`,
        };
      }
      return { ok: true, detail };
    },
  };
}

async function nearestExisting(path: string): Promise<string> {
  let p = path;
  for (;;) {
    try {
      await access(p);
      return p;
    } catch {
      const up = dirname(p);
      if (up === p) return p;
      p = up;
    }
  }
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

export function defaultProbes(stateDir: string): Probe[] {
  return [
    engineProbe(),
    nixProbe(),
    toolProbe('diffoscope', 'diffoscope', ['--version'], FIX.diffoscope, 'explains mismatches'),
    diskProbe(stateDir),
    toolProbe('skopeo', 'skopeo', ['--version'], 'apt-get install -y skopeo', 'inspects OCI layouts'),
    toolProbe('umoci', 'umoci', ['--version'], 'apt-get install -y umoci', 'unpacks OCI layouts'),
    toolProbe(
      'qemu',
      'qemu-system-x86_64',
      ['--version'],
      'apt-get install -y qemu-system-x86',
      'boots built ROMs',
    ),
  ];
}
