/**
 * CI at scale with the real engine: shards cover every board once, merged runs
 * equal one --all run, a tampered shard is named with its machine in compare,
 * JUnit and GitHub annotations; builds work through a remote (tcp) engine; the
 * HTML report shows a mismatch red in headless Chromium.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';

const engine = await probeEngine();
const nix = await probeNix();
const BOARDS = ['alpha', 'bravo', 'charlie'];

async function tinyWorkspace(): Promise<string> {
  const ws = await mkdtemp(join(tmpdir(), 'rr-scale-'));
  await cp(join(repoRoot, 'pins'), join(ws, 'pins'), { recursive: true });
  await cp(join(repoRoot, 'images'), join(ws, 'images'), { recursive: true });
  await mkdir(join(ws, 'boards'));
  for (const b of BOARDS) {
    await mkdir(join(ws, 'src', b), { recursive: true });
    await writeFile(join(ws, 'src', b, 'main.c'), `int main(void){return ${b.length};}\n`);
    await writeFile(
      join(ws, 'boards', `${b}.yaml`),
      `image: firmware\nsource:\n  type: local\n  path: src/${b}\ncommands:\n  - gcc -O2 -o ${b}.elf main.c\nartifacts:\n  - ${b}.elf\n`,
    );
  }
  return ws;
}

const runDirs = async (ws: string) =>
  (await readdir(join(ws, '.reprorom/runs'))).sort().map((r) => join(ws, '.reprorom/runs', r));

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('CI at scale (real engine)', () => {
  let ws = '';
  let shardRuns: string[] = [];
  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    ws = await tinyWorkspace();
  });

  it('two shards cover every board exactly once, and their merge equals one --all run', async () => {
    const all = await runCli(['build', '--all', '--runs', '2', '--json', '-w', ws]);
    expect(all.exitCode, all.stderr).toBe(0);
    const allJson = JSON.parse(all.stdout);
    const covered: string[] = [];
    for (const shard of ['1/2', '2/2']) {
      const r = await runCli([
        'build',
        '--all',
        '--runs',
        '2',
        '--shard',
        shard,
        '--machine',
        `m${shard[0]}`,
        '--json',
        '-w',
        ws,
      ]);
      expect(r.exitCode, r.stderr).toBe(0);
      covered.push(...JSON.parse(r.stdout).boards.map((b: { board: string }) => b.board));
    }
    expect(covered.sort()).toEqual(BOARDS);
    shardRuns = (await runDirs(ws)).slice(1);
    const merged = join(ws, 'merged');
    const m = await runCli(['merge', ...shardRuns, '--out', merged]);
    expect(m.exitCode, m.stderr).toBe(0);
    const cmpMerged = JSON.parse((await runCli(['compare', merged, '--json'])).stdout);
    const cmpAll = JSON.parse((await runCli(['compare', allJson.runDir, '--json'])).stdout);
    const view = (c: { artifacts: Array<{ name: string; verdict: string; majority: string }> }) =>
      c.artifacts.map((a) => [a.name, a.verdict, a.majority]).sort();
    expect(view(cmpMerged)).toEqual(view(cmpAll));
    expect(cmpMerged.ok).toBe(true);
    expect(cmpMerged.inputs.map((i: { label: string }) => i.label).join(' ')).toMatch(/@m1.*@m2|@m2.*@m1/);
  });

  it('a tampered shard is named with its machine by compare, JUnit and GitHub annotations', async () => {
    const merged = join(ws, 'merged-tampered');
    await runCli(['merge', ...shardRuns, '--out', merged]);
    // Flip a byte in one run's artifact of the board built on machine m1.
    const manifests = [];
    for (const b of await readdir(merged)) {
      for (const i of await readdir(join(merged, b)).catch(() => [])) {
        const f = join(merged, b, i, 'manifest.json');
        if (existsSync(f))
          manifests.push({ dir: join(merged, b, i), m: JSON.parse(await readFile(f, 'utf8')) });
      }
    }
    const victim = manifests.find((x) => x.m.run.machine === 'm1' && x.m.run.index === 2)!;
    const file = join(victim.dir, victim.m.artifacts[0].path);
    const bytes = await readFile(file);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    const summary = join(ws, 'summary.md');
    const junit = join(ws, 'junit.xml');
    const r = await runCli(['compare', merged, '--junit', junit], {
      env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.exitCode).toBe(1);
    const artifact = victim.m.artifacts[0].path.split('/').pop();
    expect(r.stdout).toMatch(
      new RegExp(`::error title=reprorom mismatch: ${victim.m.board}/${artifact}::.*@m1 disagree`),
    );
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(
      new RegExp(`<testcase classname="${victim.m.board}" name="${artifact}">\\s*<failure type="mismatch"`),
    );
    expect(xml).toMatch(/@m1: [0-9a-f]{64} {2}&lt;- disagrees/);
    expect(await readFile(summary, 'utf8')).toContain(`| ${victim.m.board} | ${artifact} | ❌ mismatch |`);

    // The HTML report shows that cell red with the hash, in a real browser.
    const html = join(ws, 'report', 'index.html');
    const rep = await runCli(['report', merged, '--html', html]);
    expect(rep.exitCode).toBe(1);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 700 } });
      await page.goto(`file://${html}`);
      const bad = page.locator('td.bad');
      expect(await bad.count()).toBeGreaterThanOrEqual(2);
      const colour = await page.evaluate(
        'getComputedStyle(document.querySelector("td.bad")).backgroundColor',
      );
      expect(colour).toBe('rgb(244, 180, 180)');
      const hashes = await bad.allInnerTexts();
      expect(new Set(hashes.map((h) => h.split('\n')[0])).size).toBeGreaterThanOrEqual(2);
      expect(await page.locator('td.good').count()).toBeGreaterThan(0);
      const out = join(repoRoot, 'test-output');
      await mkdir(out, { recursive: true });
      await page.screenshot({ path: join(out, 'report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('builds through a remote engine named by DOCKER_HOST=tcp://127.0.0.1:PORT', async () => {
    const port = await new Promise<number>((res) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    const socat = spawn(
      'socat',
      [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, 'UNIX-CONNECT:/var/run/docker.sock'],
      { stdio: 'ignore' },
    );
    try {
      await new Promise((r) => setTimeout(r, 500));
      const r = await runCli(['build', 'alpha', '--json', '-w', ws], {
        env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` },
      });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).boards[0].runs[0].ok).toBe(true);
    } finally {
      socat.kill('SIGKILL');
    }
    await rm(join(ws, 'report'), { recursive: true, force: true });
  });
});
