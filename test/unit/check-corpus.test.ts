/**
 * The bad-input corpus: every case under test/fixtures/bad is a small workspace
 * with one kind of mistake and an expected.txt holding the exact FILE:LINE:COL lines
 * `reprorom check` must print. Cases that must not be committed as files (huge,
 * NUL bytes, non-UTF-8) are generated here.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';

const corpus = join(repoRoot, 'test/fixtures/bad');
const cases = (await readdir(corpus)).sort();

const NAR = 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const VALID = {
  'pins/p.yaml': `flake: path:./flake\nnarHash: ${NAR}\npackageSet: packages\n`,
  'images/i.yaml': 'pin: p\npackages: [hello]\n',
  'boards/b.yaml': 'image: i\ncommands:\n  - make\nartifacts:\n  - out.bin\n',
};

/** Every file with its size and mtime: proof that checking wrote nothing. */
async function snapshot(dir: string): Promise<string[]> {
  const names = (await readdir(dir, { recursive: true })).map(String).sort();
  return Promise.all(
    names.map(async (n) => {
      const s = await stat(join(dir, n));
      return `${n} ${s.size} ${s.mtimeMs}`;
    }),
  );
}

async function check(dir: string) {
  const before = await snapshot(dir);
  const r = await runCli(['check', '--workspace', '.'], { cwd: dir });
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

describe('bad-input corpus', () => {
  it('has at least 25 committed cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)('%s: exit 2 with the exact located lines, no stack trace, nothing written', async (name) => {
    const dir = await mkdtemp(join(tmpdir(), `rr-corpus-${name}-`));
    await cp(join(corpus, name), dir, { recursive: true });
    const expected = (await readFile(join(dir, 'expected.txt'), 'utf8')).split('\n').filter(Boolean);
    const r = await check(dir);
    expect(r.exitCode).toBe(2);
    expect(r.lines).toEqual(expected);
    for (const line of expected) expect(line).toMatch(/^[^:]+:\d+:\d+: .+expected/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
    expect(r.after).toEqual(r.before);
  });

  it('a file over 1 MiB is refused before parsing', async () => {
    const dir = await workspaceWith({
      'boards/b.yaml': `${VALID['boards/b.yaml']}description: "${'x'.repeat(1_100_000)}"\n`,
    });
    const r = await check(dir);
    expect(r.exitCode).toBe(2);
    expect(r.lines).toEqual([
      expect.stringMatching(/^boards\/b\.yaml:1:1: file is 11\d{5} bytes, expected at most 1048576 bytes$/),
    ]);
    expect(r.after).toEqual(r.before);
  });

  it('a 10 MB scalar is refused quickly with one line', async () => {
    const dir = await workspaceWith({
      'pins/p.yaml': `${VALID['pins/p.yaml']}description: ${'y'.repeat(10 * 1024 * 1024)}\n`,
    });
    const r = await check(dir);
    expect(r.exitCode).toBe(2);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^pins\/p\.yaml:1:1: file is \d+ bytes, expected at most/);
  });

  it('a NUL byte is located', async () => {
    const dir = await workspaceWith({ 'images/i.yaml': Buffer.from('pin: p\npackages: [he\0llo]\n') });
    const r = await check(dir);
    expect(r.exitCode).toBe(2);
    expect(r.lines).toEqual(['images/i.yaml:2:14: file contains a NUL byte, expected UTF-8 text']);
  });

  it('non-UTF-8 bytes are located', async () => {
    const dir = await workspaceWith({
      'images/i.yaml': Buffer.concat([
        Buffer.from('pin: p\npackages: [caf'),
        Buffer.from([0xe9]),
        Buffer.from(']\n'),
      ]),
    });
    const r = await check(dir);
    expect(r.exitCode).toBe(2);
    expect(r.lines).toEqual(['images/i.yaml:2:15: file is not valid UTF-8, expected UTF-8 text']);
  });

  it('--json lists the problems with file, line, column and message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-corpus-json-'));
    await cp(join(corpus, 'dangling-image'), dir, { recursive: true });
    const r = await runCli(['check', '--workspace', '.', '--json'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    const json = JSON.parse(r.stdout) as { ok: boolean; problems: unknown[] };
    expect(json.ok).toBe(false);
    expect(json.problems).toEqual([
      { file: 'boards/b.yaml', line: 1, col: 8, message: 'image "nope" does not exist, expected one of: i' },
    ]);
  });

  it('the repository workspace is valid', async () => {
    const r = await runCli(['check']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok: \d+ files \(\d+ pins, \d+ images, \d+ boards\)/);
  });
});
