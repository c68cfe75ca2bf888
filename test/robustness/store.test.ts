/**
 * The store of producer runs (issue 29 item 2): two shards share a producer through a store
 * folder standing in for the CI cache. The first shard builds it and keeps it; the second
 * restores it (its manifest says so, its log shows no build); `release` rebuilds it all the
 * same; an entry whose bytes changed, or that holds a link, is refused with a warning and
 * rebuilt, never used.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { board, expectNoStack, tag } from './support.js';

const engine = await probeEngine();
const nix = await probeNix();

interface RunJson {
  index: number;
  ok: boolean;
  dir: string | null;
  restored?: { key: string };
}
interface BuildJson {
  runDir: string;
  boards: Array<{ board: string; log: string; runs: RunJson[] }>;
  comparison: { notes: string[] } | null;
}

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('robustness: store of producer runs', () => {
  let ws = '';
  let store = '';
  const p = `${tag}-p`;
  const c1 = `${tag}-c1`;
  const c2 = `${tag}-c2`;
  const shard = async (i: number, extra: string[] = []) => {
    const r = await runCli([
      'build',
      '--all',
      '--runs',
      '2',
      '--shard',
      `${i}/2`,
      '--machine',
      `m${i}`,
      '--store',
      store,
      '--json',
      '-w',
      ws,
      ...extra,
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expectNoStack(r.stderr);
    return { json: JSON.parse(r.stdout) as BuildJson, stderr: r.stderr };
  };
  const runsOf = (json: BuildJson, name: string) => json.boards.find((b) => b.board === name)?.runs ?? [];
  /** Lines the producer's container printed in this build (a restored run prints none). */
  const builtLines = async (json: BuildJson, name: string) => {
    const log = json.boards.find((b) => b.board === name)?.log;
    const text = log && existsSync(log) ? await readFile(log, 'utf8') : '';
    return text.split('\n').filter((l) => l.startsWith(`[${name}#`) && l.includes('building-producer'));
  };
  const entries = async () => (await readdir(join(store, 'v1'))).filter((e) => !e.startsWith('.'));

  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    ws = await copyWorkspace('rr-store-');
    store = await mkdtemp(join(tmpdir(), 'rr-store-cache-'));
    await rm(join(ws, 'boards'), { recursive: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(ws, 'boards'));
    await board(ws, p, 'commands:\n  - echo building-producer\n  - printf P > p.bin\nartifacts: [p.bin]\n');
    for (const c of [c1, c2])
      await board(
        ws,
        c,
        `inputs:\n  - { type: board, board: ${p}, artifact: p.bin, path: in/p.bin }\ncommands:\n  - cat in/p.bin > c.bin\n  - echo ${c} >> c.bin\nartifacts: [c.bin]\n`,
      );
  });
  afterAll(async () => {
    await rm(ws, { recursive: true, force: true });
    await rm(store, { recursive: true, force: true });
  });

  it('two shards sharing a producer: the first builds and keeps it, the second restores it (manifest says restored, from which key) and builds nothing of it', async () => {
    // Shard 1 is {c1, p}; shard 2 is {c2} and pulls p in as a producer.
    const first = await shard(1);
    expect(runsOf(first.json, p).map((r) => [r.ok, r.restored])).toEqual([
      [true, undefined],
      [true, undefined],
    ]);
    expect(await builtLines(first.json, p)).toHaveLength(2);
    expect(await entries()).toHaveLength(2);

    const second = await shard(2);
    const restored = runsOf(second.json, p);
    expect(restored).toHaveLength(2);
    expect(restored.every((r) => r.ok && /^[0-9a-f]{64}$/.test(r.restored?.key ?? ''))).toBe(true);
    expect(await builtLines(second.json, p)).toEqual([]);
    for (const r of restored) {
      const m = JSON.parse(await readFile(join(r.dir ?? '', 'manifest.json'), 'utf8'));
      expect(m.run.restored.key).toBe(r.restored?.key);
      expect((await entries()).includes(m.run.restored.key)).toBe(true);
      // The run id and machine are the build that made it.
      expect(m.run.machine).toBe('m1');
    }
    // The consumer built on the restored bytes; the restored runs are not compared here.
    expect(runsOf(second.json, c2).every((r) => r.ok && !r.restored)).toBe(true);
    expect(second.json.comparison?.notes.join('\n')).toMatch(
      /left out 2 runs of producers restored from the store/,
    );
    expect(second.stderr).toMatch(/restored from the store/);
  });

  it('release of a board whose producer is in the store rebuilds the producer all the same', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'rr-store-rel-')), 'release');
    const r = await runCli(['release', c2, '-w', ws, '--out', out, '--allow-dirty', '--json'], {
      env: { REPROROM_STORE: store },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/restored from the store/);
    const runs = join(ws, '.reprorom', 'runs');
    const latest = (await readdir(runs)).sort().at(-1) ?? '';
    for (const i of ['1', '2']) {
      const m = JSON.parse(await readFile(join(runs, latest, p, i, 'manifest.json'), 'utf8'));
      expect(m.run.restored).toBeUndefined();
    }
    const log = await readFile(join(runs, latest, `${p}.log`), 'utf8');
    expect(log.match(/building-producer/g)?.length).toBeGreaterThanOrEqual(2);
  });

  it('a store entry whose artifact bytes changed is refused (hash mismatch) with a warning, rebuilt and replaced', async () => {
    const [key] = await entries();
    const artifact = join(store, 'v1', key ?? '', 'run', 'artifacts', 'p.bin');
    await writeFile(artifact, 'X');
    const again = await shard(2);
    expect(again.stderr).toMatch(
      /warning: store entry [0-9a-f]{16}… of run \d refused: .*hash mismatch.*; rebuilding it/,
    );
    const runs = runsOf(again.json, p);
    expect(runs.filter((r) => r.restored)).toHaveLength(1);
    expect(await builtLines(again.json, p)).toHaveLength(1);
    expect(runsOf(again.json, c2).every((r) => r.ok)).toBe(true);
    // The rebuilt run replaced the bad entry: the next shard restores both.
    expect(await readFile(artifact, 'utf8')).toBe('P');
    const third = await shard(2);
    expect(runsOf(third.json, p).every((r) => r.restored)).toBe(true);
  });

  it('a store entry holding a link (to /etc/passwd) is refused by name and rebuilt; nothing is read through the link', async () => {
    const [key] = await entries();
    const artifact = join(store, 'v1', key ?? '', 'run', 'artifacts', 'p.bin');
    await rm(artifact);
    await symlink('/etc/passwd', artifact);
    const again = await shard(2);
    expect(again.stderr).toMatch(
      /warning: store entry [0-9a-f]{16}… of run \d refused: .*symbolic link.*; rebuilding it/,
    );
    expect(runsOf(again.json, p).filter((r) => r.restored)).toHaveLength(1);
    expect(runsOf(again.json, c2).every((r) => r.ok)).toBe(true);
    expect(await readFile(artifact, 'utf8')).toBe('P');
  });
});
