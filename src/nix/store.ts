/**
 * The few `nix-store` calls that seed the store with the offline package set. Here, beside
 * nix.ts, so nix is run from one folder and its failures are mapped the same way.
 */
import { EnvironmentError } from '../util/errors.js';
import { runTool } from '../util/tool.js';
import { NIX_INSTALL } from './nix.js';

function nixStore(args: string[]): Promise<string> {
  return runTool('nix-store', args, {
    env: { NIX_CONFIG: 'substituters =' },
    maxBuffer: 64 * 1024 * 1024,
    install: NIX_INSTALL,
    tailLines: 3,
    failed: (message, cause) =>
      new EnvironmentError(message, 'check that the nix store is writable (run as the nix owner)', { cause }),
  });
}

/** The subset of `paths` that are not valid store paths. */
export async function invalidPaths(paths: string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const out = await nixStore(['--check-validity', '--print-invalid', ...paths]);
  return new Set(out.split('\n').filter((l) => l !== ''));
}

/** Add files (flat) or one directory (recursive) as fixed-output paths; returns the store paths in order. */
export async function addFixed(files: string[], recursive = false): Promise<string[]> {
  if (files.length === 0) return [];
  const out = await nixStore(['--add-fixed', ...(recursive ? ['--recursive'] : []), 'sha256', ...files]);
  return out.split('\n').filter((l) => l !== '');
}
