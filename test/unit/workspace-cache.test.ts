/**
 * The validation cache of `build` / `image build` (workspace/cache.ts): an unchanged
 * workspace is answered from the user's cache, any changed byte is validated in full,
 * an invalid workspace is never stored, and what lies outside the files is checked on
 * every load.
 */
import { cp, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/util/errors.js';
import { cacheFile, loadValidWorkspaceCached } from '../../src/workspace/cache.js';
import { loadValidWorkspace } from '../../src/workspace/load.js';
import type { Workspace } from '../../src/workspace/types.js';
import { repoRoot } from '../helpers/cli.js';

const good = join(repoRoot, 'test/fixtures/good');
const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

async function scratch(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

let savedCache: string | undefined;
beforeEach(async () => {
  savedCache = process.env['REPROROM_CACHE'];
  process.env['REPROROM_CACHE'] = await scratch('rr-wscache-');
});
afterEach(() => {
  if (savedCache === undefined) delete process.env['REPROROM_CACHE'];
  else process.env['REPROROM_CACHE'] = savedCache;
});

async function workspace(): Promise<string> {
  const dir = await scratch('rr-ws-');
  await cp(good, dir, { recursive: true });
  return dir;
}

/** Everything a command reads from a workspace: values, file names, positions. */
function summary(ws: Workspace) {
  const kinds = ['pins', 'images', 'boards'] as const;
  return kinds.map((kind) =>
    [...ws[kind].values()].map((e) => ({
      kind,
      name: e.name,
      file: e.file,
      value: e.value,
      at: [
        e.parsed.at([]),
        e.parsed.at(['source', 'path']),
        e.parsed.at(['flake']),
        e.parsed.keyAt([], 'image'),
      ],
    })),
  );
}

/** Change what the stored validation says about board `hello`, keeping its key. */
async function tamperStored(root: string): Promise<void> {
  const file = cacheFile(root);
  const stored = JSON.parse(await readFile(file, 'utf8')) as {
    entries: Array<{ name: string; value: { commands: string[] } }>;
  };
  const hello = stored.entries.find((e) => e.name === 'hello');
  if (!hello) throw new Error('board hello is not stored');
  hello.value.commands = ['from-the-cache'];
  await writeFile(file, JSON.stringify(stored));
}

const commandsOf = (ws: Workspace) => ws.boards.get('hello')?.value.commands;

describe('workspace validation cache', () => {
  it('answers an unchanged workspace from the stored validation, identical to a full one', async () => {
    const root = await workspace();
    const full = await loadValidWorkspace(root);
    const first = await loadValidWorkspaceCached(root);
    expect(summary(first)).toEqual(summary(full));
    // Stored in the user's cache, nothing written into the workspace.
    expect((await stat(cacheFile(root))).isFile()).toBe(true);
    expect(cacheFile(root).startsWith(process.env['REPROROM_CACHE']!)).toBe(true);
    expect((await readdir(root)).sort()).toEqual(['boards', 'images', 'pins', 'src']);

    const second = await loadValidWorkspaceCached(root);
    expect(summary(second)).toEqual(summary(full));
    // The second answer came from the store: a value changed there shows up.
    await tamperStored(root);
    expect(commandsOf(await loadValidWorkspaceCached(root))).toEqual(['from-the-cache']);
  });

  it('validates in full after any change of bytes, even one that keeps size and times', async () => {
    const root = await workspace();
    await loadValidWorkspaceCached(root);
    await tamperStored(root);
    const file = join(root, 'boards', 'hello.yaml');
    const before = await stat(file);
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('  - make', '  - mako'));
    await utimes(file, before.atime, before.mtime);
    expect((await stat(file)).size).toBe(before.size);
    expect(commandsOf(await loadValidWorkspaceCached(root))).toEqual(['mako']);
  });

  it('validates in full when a file is added or removed', async () => {
    const root = await workspace();
    await loadValidWorkspaceCached(root);
    await tamperStored(root);
    await writeFile(join(root, 'boards', 'extra.yaml'), 'image: tools\ncommands: [make]\nartifacts: [x]\n');
    const added = await loadValidWorkspaceCached(root);
    expect(commandsOf(added)).toEqual(['make']);
    expect([...added.boards.keys()]).toContain('extra');

    await tamperStored(root);
    await rm(join(root, 'boards', 'extra.yaml'));
    const removed = await loadValidWorkspaceCached(root);
    expect(commandsOf(removed)).toEqual(['make']);
    expect([...removed.boards.keys()]).not.toContain('extra');
  });

  it('never stores an invalid workspace, and reports it exactly as a full validation does', async () => {
    const root = await workspace();
    await writeFile(join(root, 'boards', 'hello.yaml'), 'image: tools\ncommands: make\nartifacts: [x]\n');
    const full = await loadValidWorkspace(root).catch((e: unknown) => e);
    const cached = await loadValidWorkspaceCached(root).catch((e: unknown) => e);
    expect(cached).toBeInstanceOf(ConfigError);
    expect((cached as ConfigError).message).toBe((full as ConfigError).message);
    await expect(stat(cacheFile(root))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('checks the folders the files name on every load, stored or not', async () => {
    const root = await workspace();
    await loadValidWorkspaceCached(root);
    await rm(join(root, 'src', 'hello'), { recursive: true });
    const err = await loadValidWorkspaceCached(root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(
      /hello\.yaml:5:9: source folder "src\/hello" does not exist/,
    );
  });

  it('ignores a damaged store and validates in full', async () => {
    const root = await workspace();
    await loadValidWorkspaceCached(root);
    await writeFile(cacheFile(root), '{"format":1,"key":');
    const ws = await loadValidWorkspaceCached(root);
    expect(summary(ws)).toEqual(summary(await loadValidWorkspace(root)));
    // …and stores a good one again.
    await tamperStored(root);
    expect(commandsOf(await loadValidWorkspaceCached(root))).toEqual(['from-the-cache']);
  });
});
