/**
 * CI at scale with the real engine: shards cover every board once and their
 * merge equals one --all run; the generated GitHub workflow's own shell steps,
 * run as written on separate "machines" (workspace copies), build, merge,
 * compare and report; a tampered shard is named with its machine by compare,
 * JUnit, GitHub annotations and the step summary.
 */
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runActionStep } from '../helpers/action.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';

const engine = await probeEngine();
const nix = await probeNix();
const BOARDS = ['alpha', 'bravo', 'charlie', 'delta'];

/** A workspace of tiny C boards on the offline firmware image (the firmware itself does not matter here). */
async function tinyWorkspace(parent: string, name: string): Promise<string> {
  const ws = join(parent, name);
  await cp(join(repoRoot, 'pins'), join(ws, 'pins'), { recursive: true });
  await cp(join(repoRoot, 'images'), join(ws, 'images'), { recursive: true });
  await mkdir(join(ws, 'boards'));
  for (const b of BOARDS) {
    await mkdir(join(ws, 'src', b), { recursive: true });
    await writeFile(join(ws, 'src', b, 'main.c'), `int main(void){return ${b.charCodeAt(0)};}\n`);
    await writeFile(
      join(ws, 'boards', `${b}.yaml`),
      `image: firmware\nsource:\n  type: local\n  path: src/${b}\ncommands:\n  - gcc -O2 -o ${b}.elf main.c\nartifacts:\n  - ${b}.elf\n`,
    );
  }
  return ws;
}

/** `build --all --runs 2 --shard I/N` on machine mI; the boards the shard built. */
async function buildShard(ws: string, shard: string): Promise<string[]> {
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
  return JSON.parse(r.stdout).boards.map((b: { board: string }) => b.board);
}

const runDirs = async (ws: string) =>
  (await readdir(join(ws, '.reprorom/runs'))).sort().map((r) => join(ws, '.reprorom/runs', r));

/** board/artifact → sha256 from every manifest below a run folder. */
async function manifestHashes(runDir: string): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const b of await readdir(runDir)) {
    for (const i of await readdir(join(runDir, b)).catch(() => [])) {
      const f = join(runDir, b, i, 'manifest.json');
      if (!existsSync(f)) continue;
      const m = JSON.parse(await readFile(f, 'utf8'));
      for (const a of m.artifacts) {
        const key = `${m.board}/${a.path}`;
        out.set(key, (out.get(key) ?? new Set()).add(a.sha256));
      }
    }
  }
  return out;
}

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('CI at scale (real engine)', () => {
  let root = '';
  let ws = '';
  let shardRuns: string[] = [];
  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    root = await mkdtemp(join(tmpdir(), 'rr-scale-'));
    ws = await tinyWorkspace(root, 'ws');
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('two shards cover every board exactly once, and their merge equals one --all run', async () => {
    const all = await runCli(['build', '--all', '--runs', '2', '--json', '-w', ws]);
    expect(all.exitCode, all.stderr).toBe(0);
    const allJson = JSON.parse(all.stdout);
    const covered: string[] = [];
    for (const shard of ['1/2', '2/2']) {
      const boards = await buildShard(ws, shard);
      expect(boards.length).toBeGreaterThan(0);
      covered.push(...boards);
    }
    expect(covered.sort()).toEqual(BOARDS);
    shardRuns = (await runDirs(ws)).filter((d) => d !== allJson.runDir);
    expect(shardRuns).toHaveLength(2);
    const merged = join(root, 'merged');
    const m = await runCli(['merge', ...shardRuns, '--out', merged, '--json']);
    expect(m.exitCode, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout).runs).toHaveLength(BOARDS.length * 2);
    // The same boards, artifacts and hashes as the --all run's manifests.
    expect(await manifestHashes(merged)).toEqual(await manifestHashes(allJson.runDir));
    const cmp = await runCli(['compare', merged, '--json']);
    expect(cmp.exitCode, cmp.stdout).toBe(0);
    const labels: string[] = JSON.parse(cmp.stdout).inputs.map((i: { label: string }) => i.label);
    expect(labels).toHaveLength(BOARDS.length * 2);
    for (const l of labels) expect(l).toMatch(/^[^/]+\/[a-z]+#[12]@m[12]$/);
  });

  it('a tampered shard is named with its machine by compare, JUnit, GitHub annotations and the step summary', async () => {
    expect(shardRuns).toHaveLength(2);
    const merged = join(root, 'merged-tampered');
    expect((await runCli(['merge', ...shardRuns, '--out', merged])).exitCode).toBe(0);
    const runs = [];
    for (const b of await readdir(merged)) {
      for (const i of await readdir(join(merged, b)).catch(() => [])) {
        const f = join(merged, b, i, 'manifest.json');
        if (existsSync(f)) runs.push({ dir: join(merged, b, i), m: JSON.parse(await readFile(f, 'utf8')) });
      }
    }
    // Flip a byte in the second run of a board built on machine m1.
    const victim = runs.find((x) => x.m.run.machine === 'm1' && x.m.run.index === 2)!;
    const file = join(victim.dir, victim.m.artifacts[0].path);
    const bytes = await readFile(file);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    const summary = join(root, 'summary.md');
    const junit = join(root, 'junit.xml');
    const r = await runCli(['compare', merged, '--junit', junit], {
      env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.exitCode).toBe(1);
    const board = victim.m.board;
    const artifact = victim.m.artifacts[0].path.split('/').pop();
    const label = `${victim.m.run.id}/${board}#2@m1`;
    expect(r.stdout).toContain(
      `::error title=reprorom mismatch: ${board}/${artifact}::mismatch (${label} disagree)`,
    );
    const tamperedSha = (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
    expect(r.stdout).toContain(`disagrees: ${label} has ${tamperedSha}`);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(
      new RegExp(
        `<testcase classname="${board}" name="${artifact}">\\s*<failure type="mismatch" message="mismatch: ${label} disagree"`,
      ),
    );
    expect(xml).toContain(`${label}: ${tamperedSha}  &lt;- disagrees`);
    expect(await readFile(summary, 'utf8')).toContain(`| ${board} | ${artifact} | ❌ mismatch |`);
  });

  it("the generated GitHub workflow's steps, run as written on two machines, build, merge, compare and report", async () => {
    const commit = 'c0ffee0000000000000000000000000000000001';
    const gen = await runCli([
      'ci',
      'github',
      '--shards',
      '2',
      '--stdout',
      '-w',
      ws,
      '--reprorom-from',
      `example/reprorom@${commit}`,
      // The scratch workspace is no git checkout: the branch is named.
      '--branch',
      'main',
    ]);
    expect(gen.exitCode, gen.stderr).toBe(0);
    const wf = parse(gen.stdout);
    type Step = { name?: string; run?: string; uses?: string; with?: Record<string, string> };
    const findStep = (job: string, name: string) =>
      (wf.jobs[job].steps as Step[]).find((s) => s.name === name);
    const script = (job: string, name: string) => findStep(job, name)?.run ?? '';
    // This tiny workspace has no package.json: the workflow installs that commit globally; a shim stands in for it.
    const bin = join(root, 'bin');
    await mkdir(bin, { recursive: true });
    await writeFile(
      join(bin, 'reprorom'),
      `#!/bin/sh\nexec "${process.execPath}" "${repoRoot}bin/reprorom.js" "$@"\n`,
    );
    await chmod(join(bin, 'reprorom'), 0o755);
    const env = { PATH: `${bin}:${process.env['PATH']}`, NO_COLOR: '1' };
    const sh = (cmd: string, cwd: string, extra: Record<string, string> = {}) =>
      execa('bash', ['-e', '-c', cmd], { cwd, env: { ...env, ...extra }, reject: false, stdin: 'ignore' });
    // The compare job checks the repository out too: its board files say which mismatches are expected.
    const ci = await tinyWorkspace(root, 'ci');
    // The board job builds through reprorom's composite action at that commit: this checkout plays it.
    const buildStep = findStep('boards', 'Build this shard');
    expect(buildStep?.uses).toBe(`example/reprorom@${commit}`);
    for (const shard of [1, 2]) {
      const machine = await tinyWorkspace(root, `machine-${shard}`);
      const inputs = Object.fromEntries(
        Object.entries(buildStep?.with ?? {}).map(([k, v]) => [
          k,
          v.replaceAll('${{ matrix.shard }}', String(shard)),
        ]),
      );
      expect(inputs).toEqual({
        runs: '2',
        shard: `${shard}/2`,
        machine: `ci-shard-${shard}`,
        junit: 'shard/junit.xml',
      });
      const b = await runActionStep('build', { with: inputs, cwd: machine, actionPath: repoRoot, env });
      expect(b.exitCode, b.stderr).toBe(0);
      expect(b.outputs['verdict']).toBe('reproducible');
      expect(b.outputs['run-folder']).toMatch(new RegExp(`^${machine}/\\.reprorom/runs/[^/]+$`));
      expect(existsSync(join(machine, 'shard', 'junit.xml'))).toBe(true);
      expect((await sh(script('boards', 'Collect the run folder'), machine)).exitCode).toBe(0);
      // upload-artifact `shard-N` (path: shard) + download-artifact (pattern shard-*, path shards)
      await cp(join(machine, 'shard'), join(ci, 'shards', `shard-${shard}`), { recursive: true });
    }
    const summary = join(root, 'ci-summary.md');
    const c = await sh(script('compare', 'Merge and compare'), ci, {
      GITHUB_ACTIONS: 'true',
      GITHUB_STEP_SUMMARY: summary,
    });
    expect(c.exitCode, `${c.stdout}\n${c.stderr}`).toBe(0);
    const merged = JSON.parse(await readFile(join(ci, 'merged', 'merge.json'), 'utf8'));
    expect(merged.runs.map((r: { board: string; machine: string }) => r.board).sort()).toEqual(
      BOARDS.flatMap((b) => [b, b]),
    );
    expect(new Set(merged.runs.map((r: { machine: string }) => r.machine))).toEqual(
      new Set(['ci-shard-1', 'ci-shard-2']),
    );
    const junit = await readFile(join(ci, 'results', 'junit.xml'), 'utf8');
    for (const b of BOARDS) expect(junit).toContain(`<testcase classname="${b}" name="${b}.elf"/>`);
    const html = await readFile(join(ci, 'report', 'index.html'), 'utf8');
    expect(html).toContain('reprorom: reproducible');
    expect(html.match(/<td class="cell good"/g)).toHaveLength(BOARDS.length * 2);
    expect(await readFile(summary, 'utf8')).toContain('| alpha | alpha.elf | ✅ reproducible |');
  });

  it('boards with inputs: a shard builds the producer its boards need, and the merged shards agree (the producer from both machines)', async () => {
    const chain = join(root, 'chain');
    await cp(join(repoRoot, 'pins'), join(chain, 'pins'), { recursive: true });
    await cp(join(repoRoot, 'images'), join(chain, 'images'), { recursive: true });
    await mkdir(join(chain, 'boards'));
    const fromAlpha =
      'inputs:\n  - { type: board, board: alpha, artifact: out/payload.bin, path: payloads/p.bin }\n';
    const boards: Record<string, string> = {
      alpha: "commands: ['mkdir -p out && cp in.txt out/payload.bin']\nartifacts: [out/payload.bin]\n",
      bravo: `${fromAlpha}commands: ['mkdir -p out && cat in.txt payloads/p.bin > out/rom.bin']\nartifacts: [out/rom.bin]\n`,
      charlie: `${fromAlpha}commands: ['mkdir -p out && cat in.txt payloads/p.bin > out/rom.bin']\nartifacts: [out/rom.bin]\n`,
      delta: "commands: ['mkdir -p out && cp in.txt out/rom.bin']\nartifacts: [out/rom.bin]\n",
    };
    for (const [b, body] of Object.entries(boards)) {
      await mkdir(join(chain, 'src', b), { recursive: true });
      await writeFile(join(chain, 'src', b, 'in.txt'), `${b}\n`);
      await writeFile(
        join(chain, 'boards', `${b}.yaml`),
        `image: firmware\nsource: { type: local, path: src/${b} }\n${body}`,
      );
    }
    const shardBoards: string[][] = [];
    for (const shard of ['1/2', '2/2']) shardBoards.push(await buildShard(chain, shard));
    // Every board in some shard; each shard that builds a consumer builds its producer too.
    expect([...new Set(shardBoards.flat())].sort()).toEqual(Object.keys(boards));
    for (const built of shardBoards)
      if (built.includes('bravo') || built.includes('charlie')) expect(built).toContain('alpha');
    const runs = await runDirs(chain);
    expect(runs).toHaveLength(2);
    // The consumers took the payload bytes their shard's producer made.
    const alphaSha = [...((await manifestHashes(runs[0]!)).get('alpha/artifacts/out/payload.bin') ?? [])];
    expect(alphaSha).toHaveLength(1);
    for (const dir of runs)
      for (const consumer of ['bravo', 'charlie']) {
        const f = join(dir, consumer, '1', 'manifest.json');
        if (!existsSync(f)) continue;
        const m = JSON.parse(await readFile(f, 'utf8'));
        expect(m.inputs.map((i: { sha256: string }) => i.sha256)).toEqual(alphaSha);
      }
    const merged = join(root, 'chain-merged');
    const m = await runCli(['merge', ...runs, '--out', merged, '--json']);
    expect(m.exitCode, m.stderr).toBe(0);
    const alphaRuns = JSON.parse(m.stdout).runs.filter((r: { board: string }) => r.board === 'alpha');
    // Built in both shards: four runs from two machines, more evidence rather than a conflict.
    expect(alphaRuns.map((r: { machine: string }) => r.machine).sort()).toEqual(['m1', 'm1', 'm2', 'm2']);
    const cmp = await runCli(['compare', merged, '--json']);
    expect(cmp.exitCode, cmp.stdout).toBe(0);
    expect(JSON.parse(cmp.stdout).ok).toBe(true);
  });
});
