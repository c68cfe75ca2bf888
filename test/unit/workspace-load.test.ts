/** The loader's API: values with defaults, one ConfigError for all problems, paths as the user sees them. */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, ExitCode, UsageError } from '../../src/util/errors.js';
import { loadValidWorkspace, loadWorkspace, MAX_PROBLEMS_PER_FILE } from '../../src/workspace/load.js';
import { repoRoot, runCli } from '../helpers/cli.js';

const good = join(repoRoot, 'test/fixtures/good');
const bad = (name: string) => join(repoRoot, 'test/fixtures/bad', name);

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rr-load-'));
  temps.push(dir);
  return dir;
}

async function copyOf(dir: string): Promise<string> {
  const tmp = await scratch();
  await cp(dir, tmp, { recursive: true });
  return tmp;
}

describe('loadWorkspace', () => {
  it('returns typed entries with defaults filled in', async () => {
    const ws = await loadValidWorkspace(good);
    expect(ws.root).toBe(good);
    expect([...ws.pins.keys()]).toEqual(['local', 'nixpkgs']);
    expect(ws.pins.get('nixpkgs')?.value).toMatchObject({
      packageSet: 'legacyPackages',
      system: 'x86_64-linux',
    });
    const fetched = ws.boards.get('fetched')?.value;
    expect(fetched).toMatchObject({ workdir: '.', env: {}, limits: { memory: 4 * 1024 ** 3, pids: 4096 } });
    expect(fetched?.source).toEqual({
      type: 'git',
      url: 'https://example.org/firmware.git',
      rev: '0123456789abcdef0123456789abcdef01234567',
    });
    expect(ws.boards.get('hello')?.value.boot).toMatchObject({
      as: 'bios',
      channel: 'serial',
      timeout: 60,
      cpu: 'qemu64',
      memory: 128,
    });
    expect(ws.images.get('tools')?.value.user).toEqual({ name: 'build', uid: 1000 });
    expect(ws.boards.get('hello')?.parsed.at(['boot', 'expect'])).toEqual({ line: 22, col: 11 });
  });

  it('loadValidWorkspace throws one ConfigError (exit 2) holding every problem', async () => {
    const err = await loadValidWorkspace(bad('problems-in-two-files')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const config = err as ConfigError;
    expect(config.exitCode).toBe(ExitCode.config);
    expect(config.problems.map((p) => [p.line, p.col])).toEqual([
      [1, 1],
      [6, 1],
    ]);
    expect(config.hint).toMatch(/reprorom check/);
  });

  it('a reference to a file that exists but is invalid is not reported again as dangling', async () => {
    const { problems } = await loadWorkspace(bad('missing-narhash'));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/missing key "narHash"/);
  });

  it('a missing workspace folder is a UsageError, not an empty workspace', async () => {
    await expect(loadWorkspace(join(tmpdir(), 'rr-definitely-missing'))).rejects.toBeInstanceOf(UsageError);
    const file = join(await scratch(), 'file');
    await writeFile(file, 'x');
    await expect(loadWorkspace(file)).rejects.toThrow(/is not a folder/);
  });

  it(`lists at most ${MAX_PROBLEMS_PER_FILE} problems per file, then says how many more`, async () => {
    const { problems } = await loadWorkspace(bad('too-many-problems'));
    expect(problems).toHaveLength(MAX_PROBLEMS_PER_FILE + 1);
    expect(problems.at(-1)?.message).toMatch(/^10 more problem\(s\) in this file not listed/);
  });

  it('escapes control characters so every problem stays on one line', async () => {
    const dir = await copyOf(bad('control-char-key'));
    await writeFile(join(dir, 'images/i.yaml'), 'pin: p\npackages: [hello]\n"a\\nb\\u2028c": 1\n');
    const { problems } = await loadWorkspace(dir);
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(/^unknown key "a\\nb\\u2028c",/)]);
  });
});

describe('reprorom check paths', () => {
  it('prints file paths relative to the current folder, wherever the workspace is', async () => {
    const r = await runCli(['check', '--workspace', 'test/fixtures/bad/dangling-pin']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      'test/fixtures/bad/dangling-pin/images/i.yaml:1:6: pin "nope" does not exist, expected one of: p',
    );
  });
});
