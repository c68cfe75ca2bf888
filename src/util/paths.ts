import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Per-workspace state (runs, locks, image cache entries); git-ignored. */
export function stateDir(workspaceRoot: string): string {
  return resolve(workspaceRoot, '.reprorom');
}

/** Downloaded bytes (.deb files, source packages): shared by all workspaces of a user, never in git. */
export function cacheDir(): string {
  const env = process.env;
  if (env['REPROROM_CACHE']) return resolve(env['REPROROM_CACHE']);
  return join(env['XDG_CACHE_HOME'] ? resolve(env['XDG_CACHE_HOME']) : join(homedir(), '.cache'), 'reprorom');
}
