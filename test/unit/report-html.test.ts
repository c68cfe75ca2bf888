/** The HTML report: a boards × runs grid, red where a run differs, links relative, no external resources. */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runReport } from '../../src/cli/commands/report.js';
import { mergeRuns } from '../../src/merge/merge.js';
import { writeCulprits } from '../../src/report/culpritsFile.js';
import { sha256Of, writeFakeRun } from '../helpers/runFolder.js';

let root = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'rr-report-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function run(
  dir: string,
  runId: string,
  machine: string,
  board: string,
  index: number,
  bytes: string,
  artifact = 'rom.bin',
) {
  const out = join(root, dir, board, String(index));
  await writeFakeRun(out, {
    board,
    runId,
    index,
    machine,
    artifact,
    bytes,
    durationMs: 1500 * index,
    narHash: `sha256-${'Q'.repeat(43)}=`,
    imageId: `sha256:${'c'.repeat(64)}`,
    sourceHash: 'h',
  });
  await writeFile(join(root, dir, `${board}.log`), `${board} log\n`);
}

/** Two shards: "good" agrees, "bad" differs on ci-shard-2's second run (its artifact name can be chosen). */
async function fixture(artifact = 'rom.bin') {
  await run('s1', 'RUN-1', 'ci-shard-1', 'good', 1, 'same');
  await run('s1', 'RUN-1', 'ci-shard-1', 'good', 2, 'same');
  await run('s2', 'RUN-2', 'ci-shard-2', 'bad', 1, 'first', artifact);
  await run('s2', 'RUN-2', 'ci-shard-2', 'bad', 2, 'second!', artifact);
  await mergeRuns([join(root, 's1'), join(root, 's2')], join(root, 'merged'));
}

const cells = (html: string) =>
  [...html.matchAll(/<td class="cell (\w+)" data-label="([^"]*)" data-sha256="([0-9a-f]*)"/g)].map((m) => ({
    cls: m[1],
    label: m[2],
    sha: m[3],
  }));

describe('reprorom report --html', () => {
  it('one row per board artifact, one cell per run: green when identical, red with both hashes when not', async () => {
    await fixture();
    const page = join(root, 'report', 'index.html');
    expect(await runReport([join(root, 'merged')], { html: page })).toBe(1);
    const html = await readFile(page, 'utf8');
    expect(cells(html)).toEqual([
      { cls: 'bad', label: 'RUN-2/bad#1@ci-shard-2', sha: sha256Of('first') },
      { cls: 'bad', label: 'RUN-2/bad#2@ci-shard-2', sha: sha256Of('second!') },
      { cls: 'good', label: 'RUN-1/good#1@ci-shard-1', sha: sha256Of('same') },
      { cls: 'good', label: 'RUN-1/good#2@ci-shard-1', sha: sha256Of('same') },
    ]);
    expect(html).toContain('<h1 class="bad">reprorom: NOT reproducible</h1>');
    expect(html).toContain('1 reproducible, 1 MISMATCH');
    expect(html).toContain(`offline: path:./pins/offline sha256-${'Q'.repeat(43)}=`);
    expect(html).toContain(`firmware: sha256:${'c'.repeat(64)}`);
    expect(html).toContain('<b>ci-shard-2</b> · run 2');
    expect(html).toContain('7 B · 3.0 s');
    // Links are relative to the page (the merged logs); the diff report is in the page itself,
    // and the page is the only file written.
    expect(html).toContain('<a href="../merged/logs/RUN-2%40ci-shard-2/bad.log">log</a>');
    expect(html).toMatch(/<details class="diff"><summary>diff report<\/summary><pre>[^<]*first/);
    expect(await readdir(join(root, 'report'))).toEqual(['index.html']);
    // --diff-dir keeps the reports as files there, and the page links them.
    const kept = join(root, 'kept');
    expect(await runReport([join(root, 'merged')], { html: page, diffDir: kept })).toBe(1);
    expect(await readFile(page, 'utf8')).toMatch(/<a href="\.\.\/kept\/[^"]+">diff report<\/a>/);
    expect((await readdir(kept)).length).toBeGreaterThan(0);
    expect(await readdir(join(root, 'report'))).toEqual(['index.html']);
    // Self-contained: no scripts, no external stylesheets, images or fonts.
    expect(html).not.toMatch(/<script|<link|<img|src=|url\(|https?:/i);
  });

  it('names the culprit a build found (its culprits.json, carried through merge) on the mismatched row only', async () => {
    await run('s1', 'RUN-1', 'ci-shard-1', 'good', 1, 'same');
    await run('s1', 'RUN-1', 'ci-shard-1', 'good', 2, 'same');
    await run('s2', 'RUN-2', 'ci-shard-2', 'bad', 1, 'first');
    await run('s2', 'RUN-2', 'ci-shard-2', 'bad', 2, 'second!');
    await writeCulprits(join(root, 's2'), {
      runDirs: [],
      extraRuns: 2,
      artifacts: [
        { board: 'bad', artifact: 'artifacts/rom.bin', verdict: 'variation', culprits: ['hostname'] },
      ],
    });
    await mergeRuns([join(root, 's1'), join(root, 's2')], join(root, 'merged'));
    const page = join(root, 'report', 'index.html');
    expect(await runReport([join(root, 'merged')], { html: page })).toBe(1);
    const html = await readFile(page, 'utf8');
    const rows = html.split('\n').filter((l) => l.startsWith('<tr class='));
    expect(rows.find((l) => l.includes('<div class="board">bad</div>'))).toContain(
      '<div class="verdict mismatch">MISMATCH</div><div class="cause">differs when: hostname</div>',
    );
    expect(rows.find((l) => l.includes('<div class="board">good</div>'))).not.toContain('class="cause"');
    // Without the file (the run folder as built before the search), no cause is made up.
    await rm(join(root, 'merged', 'culprits.json'));
    await runReport([join(root, 'merged')], { html: page });
    expect(await readFile(page, 'utf8')).not.toContain('class="cause"');
  });

  it('is the same page twice (no timestamps), and green when everything agrees', async () => {
    await run('s1', 'RUN-1', 'm', 'good', 1, 'same');
    await run('s1', 'RUN-1', 'm', 'good', 2, 'same');
    const a = join(root, 'a.html');
    const b = join(root, 'b.html');
    expect(await runReport([join(root, 's1')], { html: a })).toBe(0);
    expect(await runReport([join(root, 's1')], { html: b })).toBe(0);
    expect(await readFile(a, 'utf8')).toBe(await readFile(b, 'utf8'));
    expect(await readFile(a, 'utf8')).toContain('<h1 class="ok">reprorom: reproducible</h1>');
    expect(await readFile(a, 'utf8')).toContain('<a href="s1/good.log">log</a>');
  });

  // Board names are refused unless simple (manifest schema); artifact names may hold anything else.
  it('escapes names that look like markup', async () => {
    await fixture('x<img src=y>');
    const page = join(root, 'r.html');
    await runReport([join(root, 'merged')], { html: page });
    const html = await readFile(page, 'utf8');
    expect(html).toContain('x&lt;img src=y&gt;');
    expect(html).not.toContain('<img');
  });
});
