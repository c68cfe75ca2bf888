/**
 * The nix adapter: the only module that runs `nix`. Every call is offline
 * (no substituters, no global flake registry) so a build never reaches the network.
 */
import { ExecaError, execa } from 'execa';
import { EnvironmentError, ImageBuildError } from '../util/errors.js';

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
  try {
    const result = await execa('nix', args, {
      cwd: opts.cwd,
      env: { ...opts.env, NIX_CONFIG: NIX_OFFLINE_CONFIG },
      cancelSignal: opts.signal,
      stripFinalNewline: true,
      maxBuffer: 512 * 1024 * 1024,
    });
    return result.stdout;
  } catch (err) {
    throw nixError(args, err);
  }
}

export async function nixJson<T>(args: string[], opts: NixRunOptions = {}): Promise<T> {
  return JSON.parse(await nix([...args, '--json'], opts)) as T;
}

function nixError(args: string[], err: unknown): Error {
  if (err instanceof ExecaError) {
    if (err.code === 'ENOENT') {
      return new EnvironmentError('nix is not installed', 'install it: apt-get install -y nix-bin', {
        cause: err,
      });
    }
    if (err.isCanceled) return err;
    const tail = String(err.stderr ?? '')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-6)
      .join('\n  ');
    return new ImageBuildError(`nix ${args[0] ?? ''} failed: ${tail || err.shortMessage}`, undefined, {
      cause: err,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
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
