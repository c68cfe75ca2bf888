/** The few `nix-store` calls fetch needs to seed the store (the nix adapter covers `nix` itself). */
import { ExecaError, execa } from 'execa';
import { EnvironmentError } from '../util/errors.js';

async function nixStore(args: string[]): Promise<string> {
  try {
    const r = await execa('nix-store', args, {
      env: { NIX_CONFIG: 'substituters =' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return r.stdout;
  } catch (err) {
    if (err instanceof ExecaError) {
      if (err.code === 'ENOENT')
        throw new EnvironmentError('nix is not installed', 'install it: apt-get install -y nix-bin', {
          cause: err,
        });
      const tail = String(err.stderr ?? '')
        .trim()
        .split('\n')
        .slice(-3)
        .join('\n  ');
      throw new EnvironmentError(
        `nix-store ${args[0] ?? ''} failed: ${tail || err.shortMessage}`,
        'check that the nix store is writable (run as the nix owner)',
        { cause: err },
      );
    }
    throw err;
  }
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
