import { lstat, mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from './errors.js';

/** Per-workspace state (runs, locks, image cache entries); git-ignored. */
export function stateDir(workspaceRoot: string): string {
  return resolve(workspaceRoot, '.reprorom');
}

/**
 * Create the state folder (or find it) and return it. Something else at that name (a file
 * someone made, a dangling link) is a clear exit 2 naming it, never a crash in a later mkdir.
 */
export async function ensureStateDir(workspaceRoot: string): Promise<string> {
  const dir = stateDir(workspaceRoot);
  try {
    await mkdir(dir, { recursive: true });
    return dir;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // EEXIST: a file or other non-folder; ENOENT here: a link pointing nowhere.
    if (code !== 'EEXIST' && code !== 'ENOTDIR' && code !== 'ENOENT') throw err;
    if (!(await lstat(dir).catch(() => undefined))) throw err;
  }
  const what = await stat(dir).then(
    (s) => (s.isFile() ? 'a file' : 'not a folder'),
    () => 'a link to nothing',
  );
  throw new UsageError(
    `${dir} is ${what}: reprorom keeps its runs, locks and work folders there`,
    `move or remove ${dir}, then run the command again (it is created as a folder)`,
  );
}

/** Downloaded bytes (.deb files, source packages): shared by all workspaces of a user, never in git. */
export function cacheDir(): string {
  const env = process.env;
  if (env['REPROROM_CACHE']) return resolve(env['REPROROM_CACHE']);
  return join(env['XDG_CACHE_HOME'] ? resolve(env['XDG_CACHE_HOME']) : join(homedir(), '.cache'), 'reprorom');
}
