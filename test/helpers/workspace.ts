/** Copies of the default workspace in fresh folders, so tests can vary where a build runs. */
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

export async function copyWorkspace(prefix = 'rr-ws-', parent = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(parent, prefix));
  for (const sub of ['pins', 'images', 'boards', 'schemas', 'probe']) {
    await cp(join(repoRoot, sub), join(dir, sub), { recursive: true });
  }
  return dir;
}
