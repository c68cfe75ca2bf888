/**
 * The HTML report in a real browser: Debian's headless Chromium driven by
 * playwright-core opens the page from a file:// URL, and a run that differs is
 * shown red (computed background colour) with both hashes. A screenshot goes to
 * test-output/report.png for people to look at. Under CI a missing Chromium fails.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { inCi } from '../helpers/real.js';
import { sha256Of, writeFakeRun } from '../helpers/runFolder.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Run folders as two CI shards leave them (the report reads only files; no engine needed). */
async function shard(root: string, runId: string, machine: string, boards: Record<string, string[]>) {
  const dir = join(root, runId);
  for (const [board, roms] of Object.entries(boards)) {
    for (const [i, bytes] of roms.entries()) {
      const out = join(dir, board, String(i + 1));
      await writeFakeRun(out, {
        board,
        runId,
        index: i + 1,
        machine,
        artifact: `${board}.rom`,
        bytes,
        durationMs: 15_000 + i * 700,
        narHash: `sha256-${'Z'.repeat(43)}=`,
        imageId: `sha256:${'e'.repeat(64)}`,
        sourceHash: 'h',
      });
    }
    await writeFile(join(dir, `${board}.log`), `${board} build log\n`);
  }
  return dir;
}

describe.skipIf(!existsSync(CHROMIUM) && !inCi)('HTML report in headless Chromium', () => {
  let root = '';
  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is required under CI: apt-get install chromium (.ci/setup does)`);
    root = await mkdtemp(join(tmpdir(), 'rr-browser-'));
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('shows the run that differs red, with both hashes, and the rest green', async () => {
    const s1 = await shard(root, 'RUN-1', 'ci-shard-1', {
      'seabios-qemu': ['bios A'.repeat(100), 'bios A'.repeat(100)],
      'uboot-qemu-riscv64': ['uboot'.repeat(90), 'uboot'.repeat(90)],
    });
    const s2 = await shard(root, 'RUN-2', 'ci-shard-2', { 'seabios-qemu-naive': ['naive 1', 'naive 2'] });
    const merged = join(root, 'merged');
    expect((await runCli(['merge', s1, s2, '--out', merged])).exitCode).toBe(0);
    const page = join(root, 'report', 'index.html');
    const r = await runCli(['report', merged, '--html', page]);
    expect(r.exitCode, r.stderr).toBe(1);

    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 }, offline: true });
      const pg = await ctx.newPage();
      const requests: string[] = [];
      pg.on('request', (req) => requests.push(req.url()));
      await pg.goto(pathToFileURL(page).href);
      // Self-contained: the page asks for nothing but itself.
      expect(requests).toEqual([pathToFileURL(page).href]);

      // Evaluated in the page (a string: this project compiles without the DOM library).
      const cellsOf = (board: string) =>
        pg.evaluate(`[...document.querySelectorAll('#grid tbody tr')]
          .filter((tr) => tr.querySelector('.board')?.textContent === ${JSON.stringify(board)})
          .flatMap((tr) => [...tr.querySelectorAll('td.cell')])
          .map((td) => ({
            colour: getComputedStyle(td).backgroundColor,
            hash: td.querySelector('code.sha')?.textContent ?? '',
            text: td.textContent ?? '',
          }))`) as Promise<Array<{ colour: string; hash: string; text: string }>>;
      const naive = await cellsOf('seabios-qemu-naive');
      const RED = 'rgb(244, 180, 180)';
      const GREEN = 'rgb(200, 240, 200)';
      expect(naive.map((c) => c.colour)).toEqual([RED, RED]);
      expect(naive.map((c) => c.hash)).toEqual([sha256Of('naive 1'), sha256Of('naive 2')]);
      expect(naive[1]?.text).toContain('ci-shard-2');
      for (const b of ['seabios-qemu', 'uboot-qemu-riscv64'])
        expect((await cellsOf(b)).map((c) => c.colour)).toEqual([GREEN, GREEN]);
      expect(await pg.locator('h1').textContent()).toBe('reprorom: NOT reproducible');
      // The log link resolves to the merged folder's copy of the shard's log.
      const logHref = await pg.locator('td.cell a', { hasText: 'log' }).first().getAttribute('href');
      expect(existsSync(join(root, 'report', decodeURIComponent(logHref ?? '')))).toBe(true);

      const out = join(repoRoot, 'test-output');
      await mkdir(out, { recursive: true });
      await pg.screenshot({ path: join(out, 'report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
