/**
 * Board-file mistakes `reprorom check` must catch, located at FILE:LINE:COL (exit 2), before
 * anything is built (issue 31, items 19, 21 and 15): input paths that name the same place in
 * two spellings or replace the source's files, reasons that say nothing, and a time limit
 * longer than a Node timer can wait. Temporary workspaces, the CLI from dist/.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { expectNoStack } from './support.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

const NAR = 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const SHA = 'a'.repeat(64);
const BASE = {
  'pins/p.yaml': `flake: path:./flake\nnarHash: ${NAR}\npackageSet: packages\n`,
  'flake/flake.nix': '{ outputs = _: { }; }\n',
  'images/i.yaml': 'pin: p\npackages: [hello]\n',
  'src/b/in.txt': 'the source file\n',
  'src/b/sub/f.txt': 'another source file\n',
};
const HEAD = 'image: i\nsource: { type: local, path: src/b }\ncommands: [make]\nartifacts: [out.bin]\n';

/** A small valid workspace with `files` laid over it. */
async function workspace(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rr-checktime-'));
  temps.push(dir);
  for (const [rel, content] of Object.entries({ ...BASE, ...files })) {
    await mkdir(join(dir, dirname(rel)), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
  return dir;
}

/** `reprorom check` of a workspace whose only board is `boards/b.yaml` = `body`. */
async function check(body: string) {
  const ws = await workspace({ 'boards/b.yaml': body });
  const r = await runCli(['check', '-w', '.'], { cwd: ws, timeoutMs: 30_000 });
  expectNoStack(r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l !== '' && !/^\d+ problem\(s\) found$/.test(l));
  return { ...r, lines };
}

const url = (path: string) =>
  `  - { type: url, url: "https://example.org/f", sha256: ${SHA}, path: "${path}" }\n`;

/** `boards/b.yaml:LINE:COL` of input `index`'s path value in a board of HEAD + `inputs:` + url(...) lines. */
const at = (index: number, path: string) => {
  const line = url(path);
  return `boards/b.yaml:${6 + index}:${line.indexOf('path: "') + 'path: '.length + 1}`;
};
const withInputs = (...paths: string[]) => `${HEAD}inputs:\n${paths.map(url).join('')}`;

describe('check: board-file mistakes found before a build', () => {
  describe('input paths are normalised, then every conflict is found at check', () => {
    it.each([
      ['in.txt', 'in.txt', 'file'],
      ['./in.txt', 'in.txt', 'file'],
      ['sub//f.txt', 'sub/f.txt', 'file'],
      ['./sub/./f.txt', 'sub/f.txt', 'file'],
      ['sub', 'sub', 'folder'],
    ])(
      'path "%s" would replace the source\'s %s: refused at its position, whatever the spelling',
      async (path, normal, what) => {
        const r = await check(withInputs(path));
        expect(r.exitCode, r.stdout).toBe(2);
        expect(r.lines).toEqual([
          `${at(0, path)}: input path "${normal}" would replace the source's ${what} "${normal}", expected a path the source does not use`,
        ]);
      },
    );

    it('"pay.bin" and "./pay.bin" are one path: the second is refused as a duplicate', async () => {
      const r = await check(withInputs('pay.bin', './pay.bin'));
      expect(r.exitCode, r.stdout).toBe(2);
      expect(r.lines).toEqual([
        `${at(1, './pay.bin')}: input path "pay.bin" is also used by inputs[0], expected one file per path`,
      ]);
    });

    it('"x" and "x/y": an input inside another input is refused; so is an input below a file of the source', async () => {
      const r = await check(withInputs('x', 'x/y', 'in.txt/z'));
      expect(r.exitCode, r.stdout).toBe(2);
      // By line: checks on disk are reported before those across inputs.
      expect([...r.lines].sort()).toEqual([
        `${at(1, 'x/y')}: input path "x/y" lies inside "x", which inputs[0] places as a file, expected paths that do not contain each other`,
        `${at(2, 'in.txt/z')}: input path "in.txt/z" needs "in.txt" to be a folder, but the source has a file there, expected a path the source does not use`,
      ]);
    });

    it.each(['.', './', 'payloads/', 'a/..'])(
      'path "%s" names no file: refused at check (never a tar error at build)',
      async (path) => {
        const r = await check(withInputs(path));
        expect(r.exitCode, r.stdout).toBe(2);
        expect(r.lines).toHaveLength(1);
        expect(r.lines[0]).toMatch(new RegExp(`^${at(0, path)}: inputs\\.0\\.path: `));
      },
    );

    it('paths that are free, or excluded from the source, pass', async () => {
      const r = await check(
        `${HEAD.replace('path: src/b }', 'path: src/b, exclude: [in.txt] }')}inputs:\n${url('./in.txt')}${url('payloads//p.bin')}${url('sub/new.bin')}`,
      );
      expect(r.exitCode, r.stderr).toBe(0);
    });
  });

  describe('a reason must say something', () => {
    it.each([
      ['vary.time.off', `${HEAD}vary:\n  time:\n    off: "   "\n`, 'boards/b.yaml:7:10: vary.time.off'],
      ['expectMismatch', `${HEAD}expectMismatch: "  \\t "\n`, 'boards/b.yaml:5:17: expectMismatch'],
    ])('%s made of blanks only is refused at its position (exit 2)', async (_what, body, where) => {
      const r = await check(body);
      expect(r.exitCode, r.stdout).toBe(2);
      expect(r.lines).toEqual([
        `${where}: expected a reason that says something, not an empty or blank text`,
      ]);
    });
  });

  describe('limits.time within what a timer can wait', () => {
    it('limits.time 2147484 (one second over Node’s longest timer) is refused at its position; 2147483 passes', async () => {
      const over = await check(`${HEAD}limits: { time: 2147484 }\n`);
      expect(over.exitCode, over.stdout).toBe(2);
      expect(over.lines).toEqual([
        'boards/b.yaml:5:17: limits.time: expected at most 2147483 seconds (about 24 days, the longest timer Node can set); leave limits.time out for no limit',
      ]);
      const huge = await check(`${HEAD}limits: { time: 99999999999 }\n`);
      expect(huge.exitCode).toBe(2);
      expect(huge.lines[0]).toMatch(/^boards\/b\.yaml:5:17: limits\.time: expected at most 2147483 seconds/);
      const max = await check(`${HEAD}limits: { time: 2147483 }\n`);
      expect(max.exitCode, max.stderr).toBe(0);
    });
  });
});
