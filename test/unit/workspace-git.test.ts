/**
 * The git state of a local source (real git): the commit is `git rev-parse HEAD`, and the
 * source is dirty exactly when the tree reprorom copies is not that commit's files.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localGitState } from '../../src/sources/workspaceGit.js';
import { excludeMatcher, LOCAL_SKIP } from '../../src/vocabulary/exclude.js';

const GIT = ['-c', 'user.name=T', '-c', 'user.email=t@example.org', '-c', 'commit.gpgsign=false'];
let dir = '';
let repo = '';
let head = '';

const state = (root: string, exclude: string[] = []) =>
  localGitState(root, { skipNames: LOCAL_SKIP, exclude: excludeMatcher(exclude) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rr-wsgit-'));
  repo = join(dir, 'repo');
  await mkdir(join(repo, 'fw', 'src'), { recursive: true });
  await writeFile(join(repo, 'fw', 'src', 'a.c'), 'int a;\n');
  await writeFile(join(repo, 'other.txt'), 'x\n');
  await writeFile(join(repo, '.gitignore'), '*.o\n.reprorom/\n');
  await execa('git', ['init', '-q', repo]);
  await execa('git', ['-C', repo, 'add', '-A']);
  await execa('git', ['-C', repo, ...GIT, 'commit', '-q', '-m', 'one']);
  head = (await execa('git', ['-C', repo, 'rev-parse', 'HEAD'])).stdout.trim();
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('localGitState', () => {
  it('a folder in no git checkout has no state', async () => {
    const loose = join(dir, 'loose');
    await mkdir(loose);
    expect(await state(loose)).toBeUndefined();
  });

  it('a clean checkout: HEAD, the folder relative to the top, clean', async () => {
    expect(await state(join(repo, 'fw'))).toEqual({ commit: head, path: 'fw', dirty: false, changes: [] });
    expect(await state(repo)).toMatchObject({ commit: head, path: '.', dirty: false });
  });

  it('reprorom state and what the tree skips do not count; a change elsewhere in the checkout does not count', async () => {
    await mkdir(join(repo, 'fw', '.reprorom', 'runs'), { recursive: true });
    await writeFile(join(repo, 'fw', '.reprorom', 'runs', 'x'), 'x\n');
    await mkdir(join(repo, 'fw', 'node_modules'), { recursive: true });
    await writeFile(join(repo, 'fw', 'node_modules', 'y'), 'y\n');
    await writeFile(join(repo, 'other.txt'), 'changed\n');
    try {
      expect(await state(join(repo, 'fw'))).toMatchObject({ dirty: false });
      expect(await state(repo)).toMatchObject({ dirty: true, changes: ['other.txt'] });
    } finally {
      await writeFile(join(repo, 'other.txt'), 'x\n');
      await rm(join(repo, 'fw', 'node_modules'), { recursive: true });
    }
  });

  it('a modified, an untracked and an ignored file of the tree each make it dirty; an excluded one does not', async () => {
    await writeFile(join(repo, 'fw', 'src', 'a.c'), 'int b;\n');
    expect(await state(join(repo, 'fw'))).toMatchObject({ dirty: true, changes: ['src/a.c'] });
    await writeFile(join(repo, 'fw', 'src', 'a.c'), 'int a;\n');
    await writeFile(join(repo, 'fw', 'new.c'), 'int n;\n');
    expect(await state(join(repo, 'fw'))).toMatchObject({ dirty: true, changes: ['new.c'] });
    await rm(join(repo, 'fw', 'new.c'));
    // Ignored by git, but still copied into the tree: the commit does not hold it.
    await writeFile(join(repo, 'fw', 'src', 'a.o'), 'obj\n');
    expect(await state(join(repo, 'fw'))).toMatchObject({ dirty: true, changes: ['src/a.o'] });
    expect(await state(join(repo, 'fw'), ['*.o'])).toMatchObject({ dirty: false });
    await rm(join(repo, 'fw', 'src', 'a.o'));
    expect(await state(join(repo, 'fw'))).toMatchObject({ dirty: false });
  });
});
