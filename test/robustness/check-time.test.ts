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

describe('check: board-file mistakes found before a build', () => {
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
