/**
 * The bad-input corpus: every case under test/fixtures/bad is a small workspace
 * with one kind of mistake and an expected.txt holding the exact FILE:LINE:COL lines
 * `reprorom check` must print. Cases that must not be committed as files (huge,
 * NUL bytes, non-UTF-8, symbolic links, pathological nesting) are generated here.
 */
import {
  cp,
  mkdir,
  mkdtemp as mkdtempRaw,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';

const corpus = join(repoRoot, 'test/fixtures/bad');
const good = join(repoRoot, 'test/fixtures/good');
const cases = (await readdir(corpus)).sort();

/** Temporary workspaces, removed when the file is done. */
const temps: string[] = [];
async function mkdtemp(prefix: string): Promise<string> {
  const dir = await mkdtempRaw(prefix);
  temps.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

const NAR = 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const VALID = {
  'pins/p.yaml': `flake: path:./flake\nnarHash: ${NAR}\npackageSet: packages\n`,
  'flake/flake.nix': '{ outputs = _: { }; }\n',
  'images/i.yaml': 'pin: p\npackages: [hello]\n',
  'boards/b.yaml': 'image: i\ncommands:\n  - make\nartifacts:\n  - out.bin\n',
};

/** Every entry with its kind, size and mtime: proof that checking wrote nothing. */
async function snapshot(dir: string): Promise<string[]> {
  const names = (await readdir(dir, { recursive: true })).map(String).sort();
  return Promise.all(
    names.map(async (n) => {
      const s = await stat(join(dir, n)).catch(() => undefined);
      return s ? `${n} ${s.isDirectory() ? 'd' : 'f'} ${s.size} ${s.mtimeMs}` : `${n} unreadable`;
    }),
  );
}

async function check(dir: string, extra: string[] = []) {
  const before = await snapshot(dir);
  const r = await runCli(['check', '--workspace', '.', ...extra], { cwd: dir, timeoutMs: 30_000 });
  const after = await snapshot(dir);
  const lines = r.stderr.split('\n').filter((l) => l !== '' && !/^\d+ problem\(s\) found$/.test(l));
  return { ...r, lines, before, after };
}

async function workspaceWith(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rr-corpus-'));
  for (const [rel, content] of Object.entries({ ...VALID, ...files })) {
    await mkdir(join(dir, dirname(rel)), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
  return dir;
}

/** Assertions every rejected workspace must satisfy, whatever its mistake. */
function expectCleanRejection(r: Awaited<ReturnType<typeof check>>) {
  expect(r.exitCode).toBe(2);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.stdout).toBe('');
  expect(r.after).toEqual(r.before);
  for (const line of r.lines) expect(line).toMatch(/^[^:]+:\d+:\d+: .+expected/);
}

describe('bad-input corpus', () => {
  it('has at least 30 committed cases, each with an expected.txt', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const name of cases) expect((await stat(join(corpus, name, 'expected.txt'))).isFile()).toBe(true);
  });

  it.each(cases)('%s: exit 2 with the exact located lines, no stack trace, nothing written', async (name) => {
    const dir = await mkdtemp(join(tmpdir(), `rr-corpus-${name}-`));
    await cp(join(corpus, name), dir, { recursive: true });
    const expected = (await readFile(join(dir, 'expected.txt'), 'utf8')).split('\n').filter(Boolean);
    const r = await check(dir);
    expectCleanRejection(r);
    expect(r.lines).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
  });

  it('checking the committed case folders in place writes nothing into them', async () => {
    const name = 'problems-in-two-files';
    const dir = join(corpus, name);
    const r = await check(dir);
    expect(r.exitCode).toBe(2);
    expect(r.after).toEqual(r.before);
  });

  it('a file over 1 MiB is refused before parsing', async () => {
    const dir = await workspaceWith({
      'boards/b.yaml': `${VALID['boards/b.yaml']}description: "${'x'.repeat(1_100_000)}"\n`,
    });
    const r = await check(dir);
    expectCleanRejection(r);
    expect(r.lines).toEqual([
      expect.stringMatching(/^boards\/b\.yaml:1:1: file is 11\d{5} bytes, expected at most 1048576 bytes$/),
    ]);
  });

  it('a 10 MB scalar is refused with one line', { timeout: 180_000 }, async () => {
    const dir = await workspaceWith({
      'pins/p.yaml': `${VALID['pins/p.yaml']}description: ${'y'.repeat(10 * 1024 * 1024)}\n`,
    });
    const r = await check(dir);
    expectCleanRejection(r);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^pins\/p\.yaml:1:1: file is \d+ bytes, expected at most/);
  });

  it('a sparse 4 GiB file is refused from its size, without reading it', async () => {
    const dir = await workspaceWith({});
    await writeFile(join(dir, 'boards/huge.yaml'), '');
    await truncate(join(dir, 'boards/huge.yaml'), 4 * 1024 ** 3);
    const r = await check(dir);
    expectCleanRejection(r);
    expect(r.lines).toEqual([
      `boards/huge.yaml:1:1: file is ${4 * 1024 ** 3} bytes, expected at most 1048576 bytes`,
    ]);
  });

  it('a billion-laughs alias bomb is refused without expanding it', { timeout: 180_000 }, async () => {
    // Nine levels of ten aliases: 10^9 strings if expanded.
    const levels = Array.from({ length: 9 }, (_, i) => {
      const prev = i === 0 ? 'lol' : `l${i - 1}`;
      return `  l${i}: &l${i} [${Array(10).fill(`*${prev}`).join(', ')}]`;
    });
    const dir = await workspaceWith({
      'images/i.yaml': `pin: p\npackages: [hello]\nenv:\n  A: &lol lol\n${levels.join('\n')}\n`,
    });
    const r = await check(dir);
    expectCleanRejection(r);
    expect(r.lines).toEqual([
      'images/i.yaml:5:12: too many alias expansions, expected a document without alias bombs (at most 100)',
    ]);
  });

  it.each([
    [
      'distinct unknown keys',
      (i: number) => `k${i}: v`,
      /^images\/i\.yaml:53:1: \d+ more problem\(s\) in this file not listed/,
    ],
    [
      'one key repeated',
      () => 'k: v',
      /^images\/i\.yaml:54:1: \d+ more problem\(s\) in this file not listed/,
    ],
  ])(
    'a file of ~100 000 %s is checked and lists 50 problems',
    async (_what, line, last) => {
      const keys = Array.from({ length: 100_000 }, (_, i) => line(i)).join('\n');
      const dir = await workspaceWith({ 'images/i.yaml': `pin: p\npackages: [hello]\n${keys}\n` });
      const r = await check(dir);
      expectCleanRejection(r);
      expect(r.lines).toHaveLength(51);
      expect(r.lines[50]).toMatch(last);
    },
    180_000,
  );

  it('nesting deep enough to exhaust the parser stack is one located line', async () => {
    const depth = 100_000;
    const dir = await workspaceWith({
      'images/i.yaml': `pin: p\npackages: ${'['.repeat(depth)}${']'.repeat(depth)}\n`,
    });
    const r = await check(dir);
    expectCleanRejection(r);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(
      /^images\/i\.yaml:2:\d+: nested too deeply to read, expected at most 64 levels/,
    );
  });

  it('a NUL byte is located', async () => {
    const dir = await workspaceWith({ 'images/i.yaml': Buffer.from('pin: p\npackages: [he\0llo]\n') });
    const r = await check(dir);
    expectCleanRejection(r);
    expect(r.lines).toEqual(['images/i.yaml:2:14: file contains a NUL byte, expected UTF-8 text']);
  });

  it.each([
    ['a Latin-1 byte', [0xe9]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['an overlong encoding', [0xe0, 0x80, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
  ])('non-UTF-8 input (%s) is located at the bad byte', async (_what, bad) => {
    const dir = await workspaceWith({
      'images/i.yaml': Buffer.concat([
        Buffer.from('pin: p\npackages: [café, caf'),
        Buffer.from(bad),
        Buffer.from(']\n'),
      ]),
    });
    const r = await check(dir);
    expectCleanRejection(r);
    // Column counts characters: "é" before it is one column, not two bytes.
    expect(r.lines).toEqual(['images/i.yaml:2:21: file is not valid UTF-8, expected UTF-8 text']);
  });

  it('a broken symbolic link and a link loop are reported, not thrown', async () => {
    const dir = await workspaceWith({});
    await symlink(join(dir, 'nowhere.yaml'), join(dir, 'pins/broken.yaml'));
    await symlink('loop.yaml', join(dir, 'pins/loop.yaml'));
    const r = await check(dir);
    expectCleanRejection(r);
    expect(r.lines).toEqual([
      'pins/broken.yaml:1:1: cannot read this file (a broken symbolic link), expected a readable YAML file',
      'pins/loop.yaml:1:1: cannot read this file (a symbolic link loop), expected a readable YAML file',
    ]);
  });

  it('a workspace folder that does not exist is a one-line usage error (exit 2)', async () => {
    const r = await runCli(['check', '--workspace', join(tmpdir(), 'rr-no-such-workspace')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/workspace folder ".*rr-no-such-workspace" does not exist/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('--json lists the problems with file, line, column and message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-corpus-json-'));
    await cp(join(corpus, 'problems-in-two-files'), dir, { recursive: true });
    const r = await check(dir, ['--json']);
    expect(r.exitCode).toBe(2);
    const json = JSON.parse(r.stdout) as { ok: boolean; problems: unknown[] };
    expect(json.ok).toBe(false);
    expect(json.problems).toEqual([
      {
        file: 'pins/p.yaml',
        line: 1,
        col: 1,
        message: 'missing key "narHash", expected an SRI hash sha256-… (run `reprorom pin lock p`)',
      },
      {
        file: 'boards/b.yaml',
        line: 6,
        col: 1,
        message: expect.stringMatching(
          /^unknown key "artifactz" \(did you mean "artifacts"\?\), expected one of: /,
        ),
      },
    ]);
    expect(r.after).toEqual(r.before);
  });

  it('the good fixture, which uses every optional key, is valid', async () => {
    const r = await check(good);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^ok: 5 files \(2 pins, 1 images, 2 boards\)/);
    expect(r.after).toEqual(r.before);
    const json = JSON.parse((await runCli(['check', '-w', '.', '--json'], { cwd: good })).stdout);
    expect(json).toMatchObject({ ok: true, files: 5, problems: [] });
  });

  it('the repository workspace is valid', async () => {
    const r = await runCli(['check']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok: \d+ files \(\d+ pins, \d+ images, \d+ boards\)/);
  });
});
