/** Copies of the default workspace in fresh folders, so tests can vary where a build runs. */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

export async function copyWorkspace(prefix = 'rr-ws-', parent = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(parent, prefix));
  for (const sub of ['pins', 'images', 'boards', 'schemas', 'probe', 'initrds', 'kernel']) {
    await cp(join(repoRoot, sub), join(dir, sub), { recursive: true });
  }
  return dir;
}

/**
 * A copy of the default workspace whose only board is `probe` (local source `src-probe`
 * with an empty Makefile): `boardYaml` is the board file, for tests driving a fake engine.
 */
export async function workspaceWithProbeBoard(prefix: string, boardYaml: string): Promise<string> {
  const root = await copyWorkspace(prefix);
  await rm(join(root, 'boards'), { recursive: true });
  await mkdir(join(root, 'boards'));
  await mkdir(join(root, 'src-probe'));
  await writeFile(join(root, 'src-probe', 'Makefile'), 'all:\n');
  await writeFile(join(root, 'boards', 'probe.yaml'), boardYaml);
  return root;
}
