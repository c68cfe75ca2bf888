/**
 * The nix adapter: with store.ts, the only place that runs nix. Every call is offline
 * (no substituters, no global flake registry) so a build never reaches the network.
 */
import { ImageBuildError } from '../util/errors.js';
import { runTool } from '../util/tool.js';

/** The hint when nix is missing (also for nix-store, which comes with it). */
export const NIX_INSTALL = 'install it: apt-get install -y nix-bin';

export const NIX_OFFLINE_CONFIG = [
  'experimental-features = nix-command flakes',
  'substituters =',
  'flake-registry =',
  'warn-dirty = false',
].join('\n');

export interface NixRunOptions {
  cwd?: string;
  /** Extra environment; the offline config is always applied on top. */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/** Run `nix ARGS…` offline and return stdout; a failure becomes an ImageBuildError with nix's last lines. */
export async function nix(args: string[], opts: NixRunOptions = {}): Promise<string> {
  return runTool('nix', args, {
    cwd: opts.cwd,
    env: { ...opts.env, NIX_CONFIG: NIX_OFFLINE_CONFIG },
    signal: opts.signal,
    maxBuffer: 512 * 1024 * 1024,
    install: NIX_INSTALL,
    failed: (message, cause) => new ImageBuildError(message, undefined, { cause }),
  });
}

export async function nixJson<T>(args: string[], opts: NixRunOptions = {}): Promise<T> {
  return JSON.parse(await nix([...args, '--json'], opts)) as T;
}

export async function nixVersion(): Promise<string> {
  const out = await nix(['--version']);
  return /(\d+\.\d+(?:\.\d+)?)/.exec(out)?.[1] ?? out;
}

export interface FlakeMetadata {
  url: string;
  path: string;
  locked: { narHash: string; rev?: string; type: string; [k: string]: unknown };
  revision?: string;
}

export async function flakeMetadata(ref: string, opts: NixRunOptions = {}): Promise<FlakeMetadata> {
  return nixJson<FlakeMetadata>(['flake', 'metadata', ref], opts);
}

export interface PathInfo {
  path: string;
  narHash: string;
  narSize: number;
  references: string[];
}

/** The closure of store paths with their references (used for layering). registrationTime is dropped. */
export async function closure(paths: string[], opts: NixRunOptions = {}): Promise<PathInfo[]> {
  if (paths.length === 0) return [];
  const raw = await nixJson<Array<PathInfo & Record<string, unknown>>>(
    ['path-info', '--recursive', ...paths],
    opts,
  );
  return raw
    .map(({ path, narHash, narSize, references }) => ({
      path,
      narHash,
      narSize,
      references: [...references].sort(),
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Build flake outputs and return their store paths (nix 2.8 has no --print-out-paths). */
export async function buildFlake(installables: string[], opts: NixRunOptions = {}): Promise<string[]> {
  const built = await nixJson<Array<{ outputs: Record<string, string> }>>(
    ['build', '--no-link', ...installables],
    opts,
  );
  return built.flatMap((b) => Object.values(b.outputs));
}
