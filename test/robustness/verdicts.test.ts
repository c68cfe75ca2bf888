/**
 * Verdicts that must not lie, paths from input files that must stay inside, and
 * inputs that used to crash `compare`, `merge` and `report` (issue 16, items 4, 6,
 * 7, 7c, 12, 13, 14). Run folders are made with the real writers (no engine needed);
 * the CLI runs from dist/ as a user would run it.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allArtifacts } from '../../src/compare/compare.js';
import { compareInputs } from '../../src/compare/outcome.js';
import { mergeRuns } from '../../src/merge/merge.js';
import { mulberry32 } from '../../src/sources/order.js';
import { ReproromError } from '../../src/util/errors.js';
import { makeRun, sampleManifest } from '../fixtures/hashes/makeRun.js';
import { runCli } from '../helpers/cli.js';
import { expectNoStack } from './support.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});
async function scratch(name: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `rr-verdicts-${name}-`));
  temps.push(d);
  return d;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Every path below `dir` (files, folders, links), relative, sorted. */
async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      out.push(relative(dir, p));
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

/** Raw control characters other than newline: what a terminal would act on. */
const rawControls = (text: string) =>
  [...text].filter((c) => {
    const code = c.charCodeAt(0);
    return (code < 0x20 && c !== '\n') || (code >= 0x7f && code <= 0x9f);
  });

/** A run folder RUN/BOARD/N (+ RUN/BOARD.log) whose manifest says anything at all (bypasses the writer's checks). */
async function hostileRun(
  runDir: string,
  folderBoard: string,
  index: number,
  fields: { board?: string; id?: string; machine?: string },
): Promise<void> {
  const dir = join(runDir, folderBoard, String(index));
  await mkdir(join(dir, 'artifacts'), { recursive: true });
  await writeFile(join(dir, 'artifacts/bios.bin'), 'rom');
  await writeFile(join(runDir, `${folderBoard}.log`), 'log\n');
  const m = sampleManifest({
    board: fields.board ?? folderBoard,
    run: {
      id: fields.id ?? 'run1',
      index,
      ...(fields.machine !== undefined ? { machine: fields.machine } : {}),
    },
    artifacts: [{ path: 'artifacts/bios.bin', sha256: sha('rom'), size: 3 }],
  });
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`);
}

/** The project's own seeded generator, so a failing case can be replayed from its seed. */
const prng = mulberry32;

describe('verdicts and compare/merge/report inputs', () => {
  it('merge: a run id or machine name that is a path ("../../../../x") is refused; nothing is written outside --out', async () => {
    const root = await scratch('merge-escape');
    const before = await listTree(root);
    for (const [i, fields] of [
      { id: '../../../../escaped-id' },
      { machine: '../../../escaped-machine' },
    ].entries()) {
      const run = join(root, `run${i}`);
      await hostileRun(run, 'seabios', 1, fields);
      await hostileRun(run, 'seabios', 2, {});
      const out = join(root, 'deep', 'a', 'b', `out${i}`);
      const err = await mergeRuns([run], out).catch((e: unknown) => e);
      expect(err, JSON.stringify(fields)).toBeInstanceOf(ReproromError);
      expect((err as ReproromError).exitCode).toBe(2);
      expect((err as ReproromError).message).toMatch(/simple name/);
      expect(existsSync(out)).toBe(false);
    }
    const after = (await listTree(root)).filter((p) => !p.startsWith('run') && !before.includes(p));
    // Only the (empty) parents of the refused output folders may have appeared.
    expect(after.filter((p) => !/^deep(\/a(\/b)?)?$/.test(p))).toEqual([]);
  });

  it('merge, property: random hostile names and paths in manifests (.., absolute, NUL, long, unicode) never write outside --out', async () => {
    const root = await scratch('merge-property');
    const arena = join(root, 'arena');
    await mkdir(arena);
    const rand = prng(16_04);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const pieces = [
      '..',
      '.',
      '',
      '/',
      '\\',
      '\0',
      'tmp',
      join(root, 'outside'),
      '/etc',
      'x'.repeat(300),
      'é',
      '\u202e',
      '\u2215',
      '\u001b[2J',
      'seabios',
      'ok-name',
      '%2e%2e',
      '~',
      ' ',
    ];
    const hostile = () =>
      rand() < 0.2
        ? pick(['run1', 'm1', 'seabios', 'node-7.a_b'])
        : Array.from({ length: 1 + Math.floor(rand() * 6) }, () => pick(pieces)).join(
            pick(['/', '', '/../']),
          );
    const cases = 150;
    let merged = 0;
    for (let n = 0; n < cases; n++) {
      const input = join(arena, `in${n}`);
      const fields: { board?: string; id?: string; machine?: string } = {};
      const which = pick(['id', 'machine', 'board', 'all'] as const);
      if (which === 'id' || which === 'all') fields.id = hostile();
      if (which === 'machine' || which === 'all') fields.machine = hostile();
      if (which === 'board' || which === 'all') fields.board = hostile();
      await hostileRun(input, 'seabios', 1, fields);
      await hostileRun(input, 'seabios', 2, {});
      const before = await listTree(root);
      const out = join(arena, `out${n}`);
      try {
        await mergeRuns([input], out);
        merged++;
      } catch (err) {
        // Refused: a clear error (exit 2), never a crash.
        expect(err, `case ${n}: ${JSON.stringify(fields)}`).toBeInstanceOf(ReproromError);
        expect((err as ReproromError).exitCode, `case ${n}`).toBe(2);
      }
      const added = (await listTree(root)).filter((p) => !before.includes(p));
      const outside = added.filter(
        (p) => p !== relative(root, out) && !p.startsWith(`${relative(root, out)}/`),
      );
      expect(outside, `case ${n}: ${JSON.stringify(fields)}`).toEqual([]);
      // Keep the tree small, so listing it stays cheap.
      await rm(input, { recursive: true, force: true });
      await rm(out, { recursive: true, force: true });
    }
    // The generator must also make merges that succeed, or the property says little.
    expect(merged).toBeGreaterThan(5);
    expect(merged).toBeLessThan(cases);
    expect(existsSync(join(root, 'outside'))).toBe(false);
  });

  it('compare: terminal escapes in a manifest board, an artifact name or a Heads header never reach the terminal raw', async () => {
    const root = await scratch('escapes');
    const esc = '\u001b]0;pwned\u0007\u001b[2J';
    // A manifest whose board carries escapes.
    await hostileRun(join(root, 'run'), 'seabios', 1, { board: `sea${esc}bios` });
    await hostileRun(join(root, 'run'), 'seabios', 2, { board: `sea${esc}bios` });
    const board = await runCli(['compare', join(root, 'run')], { cwd: root });
    expect(board.exitCode, board.stderr).toBe(2);
    expect(rawControls(board.stdout + board.stderr)).toEqual([]);
    expectNoStack(board.stderr);
    // Artifact names and a Heads header from hashes files (accepted, so shown in the table).
    const line = `${sha('x')}  artifacts/${esc}bios.bin\n`;
    await writeFile(join(root, 'a.txt'), line);
    await writeFile(join(root, 'b.txt'), `${sha('y')}  artifacts/${esc}bios.bin\n`);
    await writeFile(
      join(root, 'heads.txt'),
      `2024-01-01 12:00:00 abc${esc}def dirty\n${sha('x')}  /build/${esc}bios.bin\n`,
    );
    for (const [args, code] of [
      [['compare', 'a.txt', 'b.txt'], 1],
      [['compare', 'a.txt', 'heads.txt'], 0],
      [['compare', 'a.txt', 'b.txt', '--json'], 1],
    ] as const) {
      const r = await runCli([...args], { cwd: root });
      expect(r.exitCode, r.stderr).toBe(code);
      expect(rawControls(r.stdout + r.stderr), args.join(' ')).toEqual([]);
      expect(r.stdout).toContain('bios.bin');
    }
  });

  it('compare: the same run twice (same folder, same manifest, hashes.txt and its manifest.json, a copy, a link) is refused (exit 2)', async () => {
    const root = await scratch('same');
    const one = await makeRun(join(root, 'run'), { index: 1, files: { 'bios.bin': 'rom' } });
    await makeRun(join(root, 'run'), { index: 2, files: { 'bios.bin': 'rom' } });
    await cp(one, join(root, 'copy'), { recursive: true });
    await symlink(one, join(root, 'link'));
    const pairs = [
      [one, one],
      [join(one, 'manifest.json'), join(one, 'manifest.json')],
      [join(one, 'hashes.txt'), join(one, 'manifest.json')],
      [one, join(root, 'copy')],
      [one, join(root, 'link')],
      [join(one, 'hashes.txt'), join(one, 'hashes.txt')],
      [join(root, 'run'), one],
    ];
    for (const [a, b] of pairs) {
      const r = await runCli(['compare', a!, b!], { cwd: root });
      expect(r.exitCode, `${a} ${b}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/same (run|file)/);
      expect(r.stdout).not.toMatch(/reproducible/);
      expectNoStack(r.stderr);
    }
    // One run folder holding two runs is what `build` compares: still allowed.
    const ok = await runCli(['compare', join(root, 'run')], { cwd: root });
    expect(ok.exitCode, ok.stderr).toBe(0);
    // Two bare hashes files with the same lines are two machines agreeing: allowed.
    await writeFile(join(root, 'm1.txt'), `${sha('rom')}  bios.bin\n`);
    await writeFile(join(root, 'm2.txt'), `${sha('rom')}  bios.bin\n`);
    expect((await runCli(['compare', 'm1.txt', 'm2.txt'], { cwd: root })).exitCode).toBe(0);
  });

  it('compare: two run folders that built different boards have nothing in common: NOT verified, exit 1', async () => {
    const root = await scratch('disjoint');
    for (const index of [1, 2]) {
      await makeRun(join(root, 'a'), { runId: 'runa', board: 'seabios', index, files: { 'bios.bin': 's' } });
      await makeRun(join(root, 'b'), {
        runId: 'runb',
        board: 'seabios-debug',
        index,
        files: { 'bios.bin': 'd' },
      });
    }
    const r = await runCli(['compare', 'a', 'b'], { cwd: root });
    expect(r.exitCode, r.stdout).toBe(1);
    expect(r.stdout).not.toMatch(/^reproducible/m);
    expect(r.stdout).toMatch(/NOT verified: .*nothing in common/);
    const j = await runCli(['compare', 'a', 'b', '--json'], { cwd: root });
    expect(j.exitCode).toBe(1);
    const parsed = JSON.parse(j.stdout) as { ok: boolean; unrelated: string[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.unrelated).toEqual(['a', 'b']);
    // A shared board across the two inputs is a real comparison.
    await makeRun(join(root, 'b'), { runId: 'runb', board: 'seabios', index: 1, files: { 'bios.bin': 's' } });
    const shared = await runCli(['compare', 'a', 'b'], { cwd: root });
    expect(shared.exitCode, shared.stdout).toBe(0);
  });

  it('compare: 100,000-line hashes files compare in seconds (linear), and a file over the size cap is refused (exit 2)', async () => {
    const root = await scratch('large');
    const lines = (n: number) =>
      Array.from({ length: n }, (_, i) => `${sha(String(i))}  out/f${String(i).padStart(7, '0')}.bin\n`).join(
        '',
      );
    const text = lines(100_000);
    await mkdir(join(root, 'a'));
    await mkdir(join(root, 'b'));
    await writeFile(join(root, 'a/hashes.txt'), text);
    await writeFile(join(root, 'b/hashes.txt'), text);
    const outcome = await compareInputs([join(root, 'a/hashes.txt'), join(root, 'b/hashes.txt')], {});
    expect(outcome.comparison.ok).toBe(true);
    expect(allArtifacts(outcome.comparison)).toHaveLength(100_000);
    const r = await runCli(['compare', 'a/hashes.txt', 'b/hashes.txt'], {
      cwd: root,
      env: { REPROROM_MAX_INPUT_LINES: '99999' },
    });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/a\/hashes\.txt:100000:1: .*more than 99,999 lines/);
    expectNoStack(r.stderr);
  }, 120_000);

  it('compare: sha256sum "./x" lines, lone-CR line endings and a symlink to a run folder are read; a tab gets a precise message', async () => {
    const root = await scratch('parsing');
    await writeFile(join(root, 'dot.txt'), `${sha('a')}  ./bios.bin\n`);
    await writeFile(join(root, 'plain.txt'), `${sha('a')}  bios.bin\n`);
    const dot = await runCli(['compare', 'dot.txt', 'plain.txt'], { cwd: root });
    expect(dot.exitCode, dot.stderr).toBe(0);
    await writeFile(join(root, 'cr.txt'), `${sha('a')}  bios.bin\r${sha('b')}  vga.bin\r`);
    await writeFile(join(root, 'lf.txt'), `${sha('a')}  bios.bin\n${sha('b')}  vga.bin\n`);
    const cr = await runCli(['compare', 'cr.txt', 'lf.txt', '--json'], { cwd: root });
    expect(cr.exitCode, cr.stderr).toBe(0);
    expect((JSON.parse(cr.stdout) as { artifacts: unknown[] }).artifacts).toHaveLength(2);
    await writeFile(join(root, 'tab.txt'), `${sha('a')}\tbios.bin\n`);
    const tab = await runCli(['compare', 'tab.txt', 'plain.txt'], { cwd: root });
    expect(tab.exitCode).toBe(2);
    expect(tab.stderr).toMatch(
      /tab\.txt:1:65: expected two spaces between the sha256 and the path, found a tab/,
    );
    const run = join(root, 'run');
    await makeRun(run, { index: 1, files: { 'bios.bin': 'rom' } });
    await makeRun(run, { index: 2, files: { 'bios.bin': 'rom' } });
    await symlink(run, join(root, 'latest'));
    const link = await runCli(['compare', 'latest'], { cwd: root });
    expect(link.exitCode, link.stderr).toBe(0);
  });

  it('report --html DIR, report --html /proc/version, compare --junit DIR, merge --out /etc/passwd/x: a clear error, no crash, nothing half-written', async () => {
    const root = await scratch('outputs');
    const run = join(root, 'run');
    await makeRun(run, { index: 1, files: { 'bios.bin': 'rom' } });
    await makeRun(run, { index: 2, files: { 'bios.bin': 'rom' } });
    await mkdir(join(root, 'folder'));
    const cases: Array<[string[], number, RegExp]> = [
      [['report', run, '--html', 'folder'], 2, /--html .*folder.* is a folder/],
      [['report', run, '--html', '/proc/version'], 3, /\/proc\/version/],
      [['compare', run, '--junit', 'folder'], 2, /--junit .*folder.* is a folder/],
      [['merge', run, '--out', '/etc/passwd/x'], 2, /\/etc\/passwd is not a folder/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli(args, { cwd: root });
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(code);
      expect(r.stderr).toMatch(message);
      expectNoStack(r.stderr);
    }
    expect(await readdir(join(root, 'folder'))).toEqual([]);
    expect((await readdir(root)).sort()).toEqual(['folder', 'run']);
    expect(await readFile('/etc/passwd', 'utf8')).toMatch(/^root:/);
  });
});
