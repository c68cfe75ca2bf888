/**
 * The hostile-input corpus: every case under test/fixtures/hostile is one abusive
 * input and an expected.txt holding the exact line the user must see (exit 2,
 * located as FILE:LINE:COL, no stack trace). Three kinds:
 * - `hash-*`, `manifest-*`: one hashes.txt or manifest.json given to `reprorom compare`;
 * - `ws-*`: a small workspace given to `reprorom check`;
 * - `build-*`: board files laid over a copy of the repository workspace and built
 *   (problems only a build can see, such as links in a local source).
 * What cannot be committed as files (symbolic links, 10 MB scalars) is described in
 * the case's setup.json and made here. With test/unit/check-corpus.test.ts this is
 * the corpus of hostile input across pins, images, boards, manifests and hashes.txt.
 */
import { appendFile, cp, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { inCi, probeEngine, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { containersOf, expectNoStack } from './support.js';

const dir = join(repoRoot, 'test/fixtures/hostile');
const cases = (await readdir(dir)).sort();
const kind = (name: string) => name.split('-')[0] as 'hash' | 'manifest' | 'ws' | 'build';
const engine = await probeEngine();

interface Setup {
  symlinks?: Array<[string, string]>;
  pad?: { file: string; key: string; bytes: number };
  args?: string[];
}

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

async function readSetup(caseDir: string): Promise<Setup> {
  try {
    return JSON.parse(await readFile(join(caseDir, 'setup.json'), 'utf8')) as Setup;
  } catch {
    return {};
  }
}

/** Lay the case out in a fresh folder (over the repository workspace for build cases). */
async function prepare(name: string): Promise<{ cwd: string; args: string[] }> {
  const src = join(dir, name);
  const setup = await readSetup(src);
  const cwd =
    kind(name) === 'build'
      ? await copyWorkspace(`rr-hostile-${name}-`)
      : await mkdtemp(join(tmpdir(), `rr-hostile-${name}-`));
  temps.push(cwd);
  await cp(src, cwd, {
    recursive: true,
    filter: (p) => !/\/(expected\.txt|setup\.json)$/.test(p),
  });
  for (const [link, target] of setup.symlinks ?? []) await symlink(target, join(cwd, link));
  if (setup.pad) {
    await appendFile(join(cwd, setup.pad.file), `${setup.pad.key}: ${'y'.repeat(setup.pad.bytes)}\n`);
  }
  const input = (await readdir(src)).find((f) => f === 'hashes.txt' || f === 'manifest.json');
  if (kind(name) === 'hash' || kind(name) === 'manifest') return { cwd, args: ['compare', input!, input!] };
  if (kind(name) === 'ws') return { cwd, args: ['check', '-w', '.'] };
  return { cwd, args: [...(setup.args ?? []), '-w', '.'] };
}

/** What the user reads: problem lines, without hints (`  → …`), progress (`[board] …`) or the count. */
function problemLines(stderr: string, cwd: string): string[] {
  return stderr
    .split('\n')
    .filter(
      (l) => l !== '' && !l.startsWith('  →') && !l.startsWith('[') && !/^\d+ problem\(s\) found$/.test(l),
    )
    .map((l) => l.replaceAll(`${cwd}/`, ''));
}

describe('hostile inputs', () => {
  it('the corpus has at least 60 cases across pins, images, boards, manifests and hashes.txt', async () => {
    const workspaceCorpus = (await readdir(join(repoRoot, 'test/fixtures/bad'))).length;
    expect(cases.length + workspaceCorpus).toBeGreaterThanOrEqual(60);
    for (const k of ['hash', 'manifest', 'ws', 'build']) {
      expect(cases.filter((c) => kind(c) === k).length, k).toBeGreaterThanOrEqual(2);
    }
    for (const name of cases) expect((await stat(join(dir, name, 'expected.txt'))).isFile()).toBe(true);
  });

  it.each(cases)('%s: one located line, exit 2, no stack trace, nothing built', async (name) => {
    if (kind(name) === 'build') {
      // Build cases reach the engine before the source is read.
      if (inCi) requireReal(engine);
      if (skipUnlessReal(engine)) return;
    }
    const { cwd, args } = await prepare(name);
    const expected = (await readFile(join(dir, name, 'expected.txt'), 'utf8')).split('\n').filter(Boolean);
    const started = Date.now();
    const r = await runCli(args, { cwd, timeoutMs: 120_000 });
    const lines = problemLines(r.stderr, cwd);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(lines).toEqual(expected);
    expect(lines).toHaveLength(1);
    // Located: FILE:LINE:COL in a file the user wrote; for a source tree, the folder and the link.
    if (kind(name) === 'build') expect(lines[0]).toMatch(/^reprorom: source folder \S+: symlink \S+ /);
    else expect(lines[0]).toMatch(/^(reprorom: )?[^\n]+?:\d+:\d+: \S/);
    expectNoStack(r.stderr);
    // Quoted input must never carry raw control characters (terminal escapes) to the user.
    const control = [...r.stderr].filter((c) => {
      const code = c.charCodeAt(0);
      return (code < 0x20 && c !== '\n' && c !== '\t') || code === 0x7f;
    });
    expect(control).toEqual([]);
    expect(Date.now() - started).toBeLessThan(30_000);
    if (kind(name) === 'build') {
      const boardName = args[1]!;
      expect(await containersOf(boardName)).toEqual([]);
      const runs = await readdir(join(cwd, '.reprorom/runs')).catch(() => [] as string[]);
      for (const run of runs) {
        expect(await readdir(join(cwd, '.reprorom/runs', run)).catch(() => [])).not.toContain(boardName);
      }
    }
  });
});
