import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debSrcFromDeb822, debSrcFromOneLine } from '../../src/sources/aptSources.js';
import { SourceError } from '../../src/sources/errors.js';
import { orderEntries } from '../../src/sources/order.js';
import { prepareSource } from '../../src/sources/prepare.js';
import { excludeMatcher, excludePatternProblem } from '../../src/vocabulary/exclude.js';
import type { Source } from '../../src/workspace/schema.js';

let tmp: string;
let savedCache: string | undefined;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'reprorom-sources-'));
  savedCache = process.env['REPROROM_CACHE'];
  process.env['REPROROM_CACHE'] = join(tmp, 'cache');
});
afterAll(async () => {
  if (savedCache === undefined) delete process.env['REPROROM_CACHE'];
  else process.env['REPROROM_CACHE'] = savedCache;
  await rm(tmp, { recursive: true, force: true });
});

let n = 0;
const fresh = (name: string): string => join(tmp, `${name}-${++n}`);
const local = (path: string, exclude: string[] = []): Source => ({ type: 'local', path, exclude });

async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, 'src', 'deep'), { recursive: true });
  await mkdir(join(root, 'empty'), { recursive: true });
  await writeFile(join(root, 'Makefile'), 'all:\n\techo hi\n');
  await writeFile(join(root, 'src', 'a.c'), 'int a;\n');
  await writeFile(join(root, 'src', 'deep', 'b.c'), 'int b;\n');
  await writeFile(join(root, 'build.sh'), '#!/bin/sh\n');
  await chmod(join(root, 'build.sh'), 0o755);
  await symlink('src/a.c', join(root, 'link-to-a'));
}

/** Every path in a tree with its kind, for comparing copies. */
async function listing(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(root, rel))).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = await lstat(join(root, r));
    if (st.isDirectory()) out.push(`d ${r}`, ...(await listing(root, r)));
    else if (st.isSymbolicLink()) out.push(`l ${r} -> ${await readlink(join(root, r))}`);
    else
      out.push(
        `f ${r} ${(st.mode & 0o777).toString(8)} ${createHash('sha256')
          .update(await readFile(join(root, r)))
          .digest('hex')}`,
      );
  }
  return out;
}

describe('local sources', () => {
  it('copies the tree without .git, .reprorom, node_modules and excluded globs, and leaves the original alone', async () => {
    const ws = fresh('ws');
    await makeTree(ws);
    for (const d of ['.git', '.reprorom', 'node_modules', 'out', 'src/deep/node_modules']) {
      await mkdir(join(ws, d), { recursive: true });
      await writeFile(join(ws, d, 'x'), 'x');
    }
    await writeFile(join(ws, 'src', 'a.o'), 'obj');
    await writeFile(join(ws, 'notes.pdf'), 'pdf');
    const before = await listing(ws);
    const into = fresh('copy');
    const p = await prepareSource(ws, local('.', ['*.o', '/out', 'notes.*']), { into });
    const got = await listing(into);
    expect(got.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
      'f Makefile',
      'f build.sh',
      'd empty',
      'l link-to-a',
      'd src',
      'f src/a.c',
      'd src/deep',
      'f src/deep/b.c',
    ]);
    expect(got).toContain(`f build.sh 755 ${createHash('sha256').update('#!/bin/sh\n').digest('hex')}`);
    expect(got.find((l) => l.startsWith('f Makefile'))).toMatch(/ 644 /);
    expect(p.files).toBe(4);
    expect(p.dir).toBe(into);
    expect(p.hash).toMatch(/^[0-9a-f]{64}$/);
    // Writing into the copy never touches the user's tree.
    await writeFile(join(into, 'src', 'a.c'), 'changed');
    expect(await listing(ws)).toEqual(before);
  });

  it('sets one mtime on every copied entry', async () => {
    const ws = fresh('ws');
    await makeTree(ws);
    const into = fresh('copy');
    await prepareSource(ws, local('.'), { into, mtime: 1234567 });
    expect((await stat(join(into, 'src', 'deep', 'b.c'))).mtimeMs).toBe(1234567000);
    expect((await stat(join(into, 'src'))).mtimeMs).toBe(1234567000);
  });

  it('gives the same hash for sorted, reverse and shuffled creation orders and different folders', async () => {
    const ws = fresh('ws');
    await makeTree(ws);
    for (let i = 0; i < 30; i++) await writeFile(join(ws, 'src', `f${i}.c`), `int f${i};\n`);
    const a = await prepareSource(ws, local('.'), { into: fresh('sorted'), order: 'sorted' });
    const b = await prepareSource(ws, local('.'), {
      into: join(fresh('elsewhere'), 'deeper', 'copy'),
      order: 'reverse',
    });
    const c = await prepareSource(ws, local('.'), { into: fresh('shuffled'), order: 'shuffled', seed: 42 });
    expect(b.hash).toBe(a.hash);
    expect(c.hash).toBe(a.hash);
    expect(await listing(b.dir)).toEqual(await listing(a.dir));
    expect(await listing(c.dir)).toEqual(await listing(a.dir));
    // The creation order is reported, so a later tar stream into the container can keep it.
    const files = (p: { entries: Array<{ rel: string }> }): string[] =>
      p.entries.map((e) => e.rel).filter((r) => /^src\/f\d+\.c$/.test(r));
    expect(files(b)).toEqual([...files(a)].reverse());
    expect(files(c)).not.toEqual(files(a));
    expect([...files(c)].sort()).toEqual([...files(a)].sort());
    // …and it is the order the files were made in: new inodes count up on ext4, xfs and tmpfs,
    // except that one freed meanwhile by another process may be reused (a loaded machine): so
    // nearly every pair, not every one, must agree. Files made in another order agree in about
    // half the pairs (shuffled) or none (reverse).
    const agreeing = async (dir: string, rels: string[]): Promise<number> => {
      const ino = await Promise.all(rels.map(async (r) => (await stat(join(dir, r))).ino));
      let up = 0;
      let pairs = 0;
      for (let i = 0; i < ino.length; i++)
        for (let j = i + 1; j < ino.length; j++, pairs++) if ((ino[i] ?? 0) < (ino[j] ?? 0)) up++;
      return up / pairs;
    };
    expect(await agreeing(b.dir, files(b))).toBeGreaterThan(0.9);
    expect(await agreeing(c.dir, files(c))).toBeGreaterThan(0.9);
    expect(await agreeing(a.dir, files(a))).toBeGreaterThan(0.9);
  });

  it('changes the hash when content, the exec bit or a link target changes', async () => {
    const ws = fresh('ws');
    await makeTree(ws);
    const base = (await prepareSource(ws, local('.'), { into: fresh('c') })).hash;
    await writeFile(join(ws, 'src', 'a.c'), 'int a2;\n');
    const content = (await prepareSource(ws, local('.'), { into: fresh('c') })).hash;
    await chmod(join(ws, 'Makefile'), 0o755);
    const mode = (await prepareSource(ws, local('.'), { into: fresh('c') })).hash;
    await rm(join(ws, 'link-to-a'));
    await symlink('src/deep/b.c', join(ws, 'link-to-a'));
    const link = (await prepareSource(ws, local('.'), { into: fresh('c') })).hash;
    expect(new Set([base, content, mode, link]).size).toBe(4);
  });

  it('refuses a symlink loop', async () => {
    const ws = fresh('ws');
    await makeTree(ws);
    await symlink('loop-b', join(ws, 'loop-a'));
    await symlink('loop-a', join(ws, 'loop-b'));
    await expect(prepareSource(ws, local('.'), { into: fresh('c') })).rejects.toThrow(
      /symlink loop-a -> loop-b is a symlink loop/,
    );
  });

  it('refuses a symlink to a folder that contains it', async () => {
    const ws = fresh('ws');
    await makeTree(ws);
    await symlink('..', join(ws, 'src', 'up'));
    const err = await prepareSource(ws, local('.'), { into: fresh('c') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).exitCode).toBe(2);
    expect((err as SourceError).message).toMatch(/src\/up -> \.\. is a symlink loop/);
  });

  it('refuses symlinks pointing outside the source, relative or absolute', async () => {
    const ws = fresh('ws');
    await makeTree(ws);
    await symlink('../../etc/passwd', join(ws, 'src', 'esc'));
    await expect(prepareSource(ws, local('.'), { into: fresh('c') })).rejects.toThrow(
      /src\/esc -> \.\.\/\.\.\/etc\/passwd points outside the source/,
    );
    await rm(join(ws, 'src', 'esc'));
    await symlink('/etc/passwd', join(ws, 'abs'));
    const err = (await prepareSource(ws, local('.'), { into: fresh('c') }).catch(
      (e: unknown) => e,
    )) as SourceError;
    expect(err.message).toMatch(/abs -> \/etc\/passwd points outside the source/);
    expect(err.hint).toMatch(/exclude/);
    // …unless excluded.
    await expect(prepareSource(ws, local('.', ['abs']), { into: fresh('c') })).resolves.toBeDefined();
  });

  it('refuses special files', async () => {
    const ws = fresh('ws');
    await makeTree(ws);
    execFileSync('mkfifo', [join(ws, 'src', 'pipe')]);
    await expect(prepareSource(ws, local('.'), { into: fresh('c') })).rejects.toThrow(
      /src\/pipe is a named pipe/,
    );
  });

  it('copies a subfolder given by path and refuses a missing one', async () => {
    const ws = fresh('ws');
    await makeTree(ws);
    const p = await prepareSource(ws, local('src'), { into: fresh('c') });
    expect((await listing(p.dir)).map((l) => l.split(' ')[1])).toEqual(['a.c', 'deep', 'deep/b.c']);
    await expect(prepareSource(ws, local('nope'), { into: fresh('c') })).rejects.toThrow(
      /is not a readable folder/,
    );
  });

  it('refuses to copy into a folder that is not empty', async () => {
    const ws = fresh('ws');
    await makeTree(ws);
    const into = fresh('c');
    await mkdir(into);
    await writeFile(join(into, 'old'), '');
    await expect(prepareSource(ws, local('.'), { into })).rejects.toThrow(/not empty/);
  });
});

describe('creation order', () => {
  const entries = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((rel) => ({ rel }));
  it('sorts, reverses, and shuffles repeatably from a seed', () => {
    expect(
      orderEntries(entries, 'sorted')
        .map((e) => e.rel)
        .join(''),
    ).toBe('abcdefgh');
    expect(
      orderEntries(entries, 'reverse')
        .map((e) => e.rel)
        .join(''),
    ).toBe('hgfedcba');
    const s1 = orderEntries(entries, 'shuffled', 7)
      .map((e) => e.rel)
      .join('');
    expect(
      orderEntries(entries, 'shuffled', 7)
        .map((e) => e.rel)
        .join(''),
    ).toBe(s1);
    expect(s1).not.toBe('abcdefgh');
    expect(
      orderEntries(entries, 'shuffled', 8)
        .map((e) => e.rel)
        .join(''),
    ).not.toBe(s1);
    expect([...s1].sort().join('')).toBe('abcdefgh');
  });
});

describe('exclude globs', () => {
  const m = excludeMatcher(['*.o', '/out', 'docs/**/*.pdf', 'tmp/', 'x?z']);
  it('matches names at any depth, anchored paths, ** and folder-only patterns', () => {
    expect(m('a.o', false)).toBe(true);
    expect(m('src/deep/a.o', false)).toBe(true);
    expect(m('out', true)).toBe(true);
    expect(m('src/out', true)).toBe(false);
    expect(m('docs/a.pdf', false)).toBe(true);
    expect(m('docs/x/y/a.pdf', false)).toBe(true);
    expect(m('a.pdf', false)).toBe(false);
    expect(m('src/tmp', true)).toBe(true);
    expect(m('src/tmp', false)).toBe(false);
    expect(m('xyz', false)).toBe(true);
    expect(m('a.c', false)).toBe(false);
  });

  it('treats an escaped glob character as itself', () => {
    const esc = excludeMatcher(['\\*.c', 'a\\?']);
    expect(esc('*.c', false)).toBe(true);
    expect(esc('src/*.c', false)).toBe(true);
    expect(esc('main.c', false)).toBe(false);
    expect(esc('a?', false)).toBe(true);
    expect(esc('ab', false)).toBe(false);
  });

  it('re-includes with a negated pattern, but not inside an excluded folder', () => {
    const neg = excludeMatcher(['*.o', '!keep.o', 'out/', '!out/keep.o']);
    expect(neg('a.o', false)).toBe(true);
    expect(neg('keep.o', false)).toBe(false);
    expect(neg('deep/keep.o', false)).toBe(false);
    expect(neg('out', true)).toBe(true);
  });

  it('names patterns that can never match instead of crashing', () => {
    expect(excludePatternProblem('[z-a]')).toMatch(/range "z-a" is out of order/);
    expect(excludePatternProblem('*.[ch')).toMatch(/never closed/);
    for (const ok of ['[a-z]*.o', '[!a-c]', '[]]', '[[:digit:]]x', '\\[z-a]', 'plain', '[a\\-z]'])
      expect(excludePatternProblem(ok), ok).toBeUndefined();
    // A pattern the checker lets through never throws at build time either.
    expect(() => excludeMatcher(['[z-a]', '*.[ch'])('x', false)).not.toThrow();
  });
});

type TarEnt = Partial<tar.Header> & { name: string; body?: string };

/** A tar.gz built entry by entry, so tests can make hostile archives. */
async function makeTarGz(path: string, entries: Array<TarEnt>): Promise<string> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const gz = pack.pipe(createGzip());
  gz.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((r) => gz.on('end', r));
  for (const { body, ...h } of entries) pack.entry({ mtime: new Date(0), ...h }, body ?? '');
  pack.finalize();
  await ended;
  const data = Buffer.concat(chunks);
  await writeFile(path, data);
  return createHash('sha256').update(data).digest('hex');
}

describe('tarball sources', () => {
  const goodEntries = [
    { name: 'proj-1.0/', type: 'directory' as const, mode: 0o755 },
    { name: 'proj-1.0/Makefile', body: 'all:\n' },
    { name: 'proj-1.0/tools/gen.sh', body: '#!/bin/sh\n', mode: 0o755 },
    { name: 'proj-1.0/link', type: 'symlink' as const, linkname: 'Makefile' },
    { name: 'proj-1.0/hard', type: 'link' as const, linkname: 'proj-1.0/Makefile' },
  ];

  it('downloads from a file:// URL into the cache, verifies, strips components and extracts', async () => {
    const file = `${fresh('ar')}.tar.gz`;
    const sha = await makeTarGz(file, goodEntries);
    const src: Source = { type: 'tarball', url: pathToFileURL(file).href, sha256: sha, stripComponents: 1 };
    const p = await prepareSource(tmp, src, { into: fresh('c') });
    expect(p.cacheHit).toBe(false);
    expect(await listing(p.dir)).toEqual([
      `f Makefile 644 ${createHash('sha256').update('all:\n').digest('hex')}`,
      `f hard 644 ${createHash('sha256').update('all:\n').digest('hex')}`,
      'l link -> Makefile',
      'd tools',
      `f tools/gen.sh 755 ${createHash('sha256').update('#!/bin/sh\n').digest('hex')}`,
    ]);
    // Second use: served from the cache even when the origin is gone, and verified again.
    await rm(file);
    const again = await prepareSource(tmp, src, { into: fresh('c'), order: 'reverse' });
    expect(again.cacheHit).toBe(true);
    expect(again.hash).toBe(p.hash);
  });

  it('rejects a wrong sha256, naming both hashes, and keeps nothing in the cache', async () => {
    const file = `${fresh('ar')}.tar.gz`;
    const sha = await makeTarGz(file, goodEntries);
    const wrong = '0'.repeat(64);
    const src: Source = { type: 'tarball', url: pathToFileURL(file).href, sha256: wrong, stripComponents: 1 };
    const err = (await prepareSource(tmp, src, { into: fresh('c') }).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toContain(`expected ${wrong}, got ${sha}`);
    expect(await readdir(join(tmp, 'cache', 'tarballs'))).not.toContain(wrong);
  });

  it('detects a corrupted cache entry and downloads it again', async () => {
    const file = `${fresh('ar')}.tar.gz`;
    const sha = await makeTarGz(file, goodEntries);
    const src: Source = { type: 'tarball', url: pathToFileURL(file).href, sha256: sha, stripComponents: 1 };
    const first = await prepareSource(tmp, src, { into: fresh('c') });
    await writeFile(join(tmp, 'cache', 'tarballs', sha), 'truncated');
    const second = await prepareSource(tmp, src, { into: fresh('c') });
    expect(second.cacheHit).toBe(false);
    expect(second.hash).toBe(first.hash);
  });

  const hostile: Array<[string, Array<TarEnt>, RegExp]> = [
    [
      'a ../ entry',
      [{ name: 'p/../../evil', body: 'x' }],
      /entry "p\/\.\.\/\.\.\/evil" is refused: the name contains "\.\."/,
    ],
    [
      'an absolute entry',
      [{ name: '/etc/evil', body: 'x' }],
      /entry "\/etc\/evil" is refused: the name is absolute/,
    ],
    [
      'a symlink out of the folder',
      [{ name: 'p/l', type: 'symlink', linkname: '../../../etc' }],
      /entry "p\/l" is refused: its symlink target "\.\.\/\.\.\/\.\.\/etc" points outside/,
    ],
    [
      'an absolute symlink',
      [{ name: 'p/l', type: 'symlink', linkname: '/etc' }],
      /entry "p\/l" is refused: its symlink target "\/etc" points outside/,
    ],
    [
      'a write through a symlink',
      [
        { name: 'p/d/', type: 'directory' },
        { name: 'p/l', type: 'symlink', linkname: 'd' },
        { name: 'p/l/x', body: 'x' },
      ],
      /entry "p\/l\/x" is refused: it would be written through the symlink l/,
    ],
    [
      'a device file',
      [{ name: 'p/dev', type: 'character-device', devmajor: 1, devminor: 3 }],
      /entry "p\/dev" is refused: character-device entries are not accepted/,
    ],
  ];
  for (const [what, entries, message] of hostile) {
    it(`refuses ${what}`, async () => {
      const file = `${fresh('bad')}.tar.gz`;
      const sha = await makeTarGz(file, entries);
      const src: Source = { type: 'tarball', url: pathToFileURL(file).href, sha256: sha, stripComponents: 1 };
      const outside = join(tmp, 'evil');
      const err = await prepareSource(tmp, src, { into: join(fresh('c'), 'x', 'y') }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toMatch(message);
      await expect(stat(outside)).rejects.toThrow();
    });
  }
});

describe('git sources', () => {
  const gitEnv = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
  const g = (cwd: string, args: string[], env: Record<string, string> = {}): string =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', ...args], {
      cwd,
      env: { ...gitEnv, ...env },
    })
      .toString()
      .trim();

  it('checks out the exact commit from a local repository, with its commit time and without .git', async () => {
    const repo = fresh('repo');
    await mkdir(repo);
    g(repo, ['init', '-q', '-b', 'main']);
    await writeFile(join(repo, 'a.txt'), 'one\n');
    await writeFile(join(repo, 'run.sh'), '#!/bin/sh\n');
    await chmod(join(repo, 'run.sh'), 0o755);
    g(repo, ['add', '.']);
    g(repo, ['commit', '-q', '-m', 'one'], {
      GIT_COMMITTER_DATE: '@1700000000 +0000',
      GIT_AUTHOR_DATE: '@1700000000 +0000',
    });
    const first = g(repo, ['rev-parse', 'HEAD']);
    await writeFile(join(repo, 'a.txt'), 'two\n');
    g(repo, ['commit', '-q', '-am', 'two'], {
      GIT_COMMITTER_DATE: '@1700000500 +0000',
      GIT_AUTHOR_DATE: '@1700000500 +0000',
    });

    const src: Source = { type: 'git', url: pathToFileURL(repo).href, rev: first };
    const p = await prepareSource(tmp, src, { into: fresh('c') });
    expect(p.commit).toBe(first);
    expect(p.commitTime).toBe(1700000000);
    expect(await readFile(join(p.dir, 'a.txt'), 'utf8')).toBe('one\n');
    expect((await stat(join(p.dir, 'run.sh'))).mode & 0o111).not.toBe(0);
    expect(await readdir(p.dir)).toEqual(['a.txt', 'run.sh']);
    expect((await stat(join(p.dir, 'a.txt'))).mtimeMs).toBe(1700000000 * 1000); // mtime defaults to the commit time

    // A commit made after the mirror was cloned is fetched on demand; the first one is a cache hit now.
    const second = g(repo, ['rev-parse', 'HEAD']);
    const again = await prepareSource(tmp, src, { into: fresh('c') });
    expect(again.cacheHit).toBe(true);
    expect(again.hash).toBe(p.hash);
    await writeFile(join(repo, 'a.txt'), 'three\n');
    g(repo, ['commit', '-q', '-am', 'three']);
    const third = g(repo, ['rev-parse', 'HEAD']);
    const p3 = await prepareSource(tmp, { ...src, rev: third }, { into: fresh('c') });
    expect(p3.cacheHit).toBe(false);
    expect(await readFile(join(p3.dir, 'a.txt'), 'utf8')).toBe('three\n');
    expect(second).not.toBe(third);
  });

  it('names the commit when it is not in the repository', async () => {
    const repo = fresh('repo');
    await mkdir(repo);
    g(repo, ['init', '-q', '-b', 'main']);
    await writeFile(join(repo, 'a'), 'a');
    g(repo, ['add', '.']);
    g(repo, ['commit', '-q', '-m', 'a']);
    const rev = 'f'.repeat(40);
    await expect(
      prepareSource(tmp, { type: 'git', url: pathToFileURL(repo).href, rev }, { into: fresh('c') }),
    ).rejects.toThrow(new RegExp(`commit ${rev} is not in`));
  });
});

describe('deb-src derivation', () => {
  it('rewrites deb822 stanzas as deb-src, dropping architectures and disabled stanzas', () => {
    const text = [
      'Types: deb',
      '# a comment',
      'URIs: http://mirror.example/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      'Architectures: amd64',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      'Types: deb',
      'URIs: http://off.example/debian',
      'Suites: x',
      'Components: main',
      'Enabled: no',
      '',
    ].join('\n');
    expect(debSrcFromDeb822(text)).toEqual([
      [
        'Types: deb-src',
        'URIs: http://mirror.example/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      ].join('\n'),
    ]);
  });

  it('rewrites one-line entries as deb-src and ignores comments', () => {
    const text =
      '# deb http://old/ x main\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main contrib\ndeb http://s.example/ bookworm-security main # trailing\n';
    expect(debSrcFromOneLine(text)).toEqual([
      'deb-src [signed-by=/k.gpg] http://m.example/debian bookworm main contrib',
      'deb-src http://s.example/ bookworm-security main',
    ]);
  });
});
