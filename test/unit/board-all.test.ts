/** `all: false`: a heavy board is left out of `build --all` and still built by name. */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { selectBoards } from '../../src/plan/plan.js';
import { loadValidWorkspace } from '../../src/workspace/load.js';
import { copyWorkspace } from '../helpers/workspace.js';

let root: string;
beforeEach(async () => {
  root = await copyWorkspace('rr-all-');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('board all: false', () => {
  it('--all leaves out boards that say all: false; naming them still selects them', async () => {
    const ws = await loadValidWorkspace(root);
    const all = selectBoards(ws, [], true);
    expect(all).not.toContain('coreboot-qemu');
    expect(all).not.toContain('coreboot-qemu-naive');
    expect(all).toContain('seabios-qemu');
    expect(all).toContain('seabios-coreboot');
    expect(selectBoards(ws, ['coreboot-qemu'], false)).toEqual(['coreboot-qemu']);
  });

  it('a board without the key is built by --all; a non-boolean is a config error', async () => {
    const file = join(root, 'boards', 'coreboot-qemu.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('all: false\n', ''));
    expect(selectBoards(await loadValidWorkspace(root), [], true)).toContain('coreboot-qemu');
    await writeFile(file, text.replace('all: false\n', 'all: sometimes\n'));
    await expect(loadValidWorkspace(root)).rejects.toThrow(
      /coreboot-qemu\.yaml:\d+:\d+: all: expected true or false/,
    );
  });
});
