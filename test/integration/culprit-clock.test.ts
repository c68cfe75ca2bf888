/**
 * Issue 30 item 1: the culprit search's frozen clock is one instant in every time zone. A build
 * stamping UTC (`date -u`) is blamed on `time` alone; one stamping local time on `time` and
 * `timezone`. Both are read from inside the builds: the frozen runs' stamps are SOURCE_DATE_EPOCH.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CULPRIT_SEARCH_DIR } from '../../src/runs/culprit.js';
import { runActionStep } from '../helpers/action.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

const engine = await probeEngine();
const nix = await probeNix();
const skip = skipUnlessReal(engine) || skipUnlessReal(nix);

const EPOCH = 1700000000;
/** `date -u +%Y%m%d%H%M%S` of EPOCH. */
const EPOCH_UTC = '20231114221320';

interface CulpritJson {
  culprits: {
    runDirs: string[];
    artifacts: Array<{ board: string; artifact: string; verdict: string; culprits: string[] }>;
  } | null;
}

let ws = '';

async function stampBoard(name: string, command: string): Promise<void> {
  await mkdir(join(ws, 'src', name), { recursive: true });
  await writeFile(join(ws, 'src', name, 'README'), 'x\n');
  await writeFile(
    join(ws, 'boards', `${name}.yaml`),
    [
      'image: firmware',
      `source: { type: local, path: src/${name} }`,
      // The sleep keeps the repeated reference a whole second past the reference's stamp: without
      // it a quick repeat could stamp the same second, agree, and skip the frozen-clock runs.
      `commands: ['mkdir -p o', 'sleep 1', '${command} > o/stamp.txt']`,
      'artifacts: [o/stamp.txt]',
      `sourceDateEpoch: ${EPOCH}`,
      '',
    ].join('\n'),
  );
}

/** Every culprit-search run's stamp and the variations it recorded. */
async function frozenStamps(
  runDirs: string[],
  board: string,
): Promise<Array<{ stamp: string; tz: string; frozen?: number }>> {
  const out: Array<{ stamp: string; tz: string; frozen?: number }> = [];
  for (const dir of runDirs) {
    const boardDir = join(dir, board);
    for (const n of await readdir(boardDir).catch(() => [] as string[])) {
      if (!/^\d+$/.test(n)) continue;
      const m = JSON.parse(await readFile(join(boardDir, n, 'manifest.json'), 'utf8'));
      if (m.variations.frozenClock === undefined) continue;
      const stamp = (await readFile(join(boardDir, n, 'artifacts/o/stamp.txt'), 'utf8')).trim();
      out.push({ stamp, tz: m.variations.tz, frozen: m.variations.frozenClock });
    }
  }
  return out;
}

describe.skipIf(skip)('culprit search with a frozen clock (real engine)', () => {
  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    ws = await copyWorkspace('rr-clock-');
    await rm(join(ws, 'boards'), { recursive: true });
    await mkdir(join(ws, 'boards'));
    await stampBoard('utc-stamp', 'date -u +%Y%m%d%H%M%S');
    await stampBoard('local-stamp', 'date +%Y%m%d%H%M%S');
  });
  afterAll(async () => {
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  it('a UTC stamp is blamed on time alone, a local-time stamp on time and timezone; frozen runs stamp SOURCE_DATE_EPOCH in every zone', async () => {
    const r = await runCli(
      [
        ...['build', 'utc-stamp', 'local-stamp', '--runs', '2', '--jobs', '2'],
        ...['--no-vary', 'all', '--vary', 'time,timezone', '--json', '-w', ws],
      ],
      { timeoutMs: 540_000 },
    );
    expect(r.exitCode, r.stderr).toBe(1);
    const json = JSON.parse(r.stdout) as CulpritJson;
    const culprit = (board: string) => json.culprits?.artifacts.find((a) => a.board === board);
    expect(culprit('utc-stamp')).toMatchObject({ verdict: 'variation', culprits: ['time'] });
    expect(culprit('local-stamp')).toMatchObject({ verdict: 'variation', culprits: ['time', 'timezone'] });

    const runDirs = json.culprits?.runDirs ?? [];
    const utc = await frozenStamps(runDirs, 'utc-stamp');
    // The frozen pair (reference zone) and the run isolating the zone: one instant, EPOCH.
    expect(new Set(utc.map((s) => s.tz)).size).toBeGreaterThanOrEqual(2);
    for (const s of utc) expect(s, JSON.stringify(s)).toMatchObject({ stamp: EPOCH_UTC, frozen: EPOCH });
    // Local time moves with the zone, from the same instant.
    const local = await frozenStamps(runDirs, 'local-stamp');
    expect(new Set(local.map((s) => s.stamp)).size).toBeGreaterThanOrEqual(2);
    for (const s of local.filter((x) => x.tz === 'UTC')) expect(s.stamp).toBe(EPOCH_UTC);
  }, 600_000);

  it("the Action's run-folder after a mismatch is the build's own run folder, never its culprit search's", async () => {
    const r = await runActionStep('build', {
      with: { boards: 'utc-stamp', runs: '2' },
      cwd: ws,
      actionPath: repoRoot,
    });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.outputs['verdict']).toBe('mismatch');
    const run = r.outputs['run-folder'] ?? '';
    // The build's two runs, unmarked, with the culprit search's reruns inside, not beside it.
    for (const n of ['1', '2']) {
      const m = JSON.parse(await readFile(join(run, 'utc-stamp', n, 'manifest.json'), 'utf8'));
      expect(m.run.culpritSearch).toBeUndefined();
    }
    expect((await readdir(join(run, CULPRIT_SEARCH_DIR))).length).toBeGreaterThan(0);
  }, 600_000);
});
