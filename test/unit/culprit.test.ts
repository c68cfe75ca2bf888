/**
 * Culprit search: after a mismatch, one variation at a time (plus the reference once more)
 * names what caused each differing artifact, within a bounded number of extra runs.
 * Driven with the fake engine: the "build" writes files whose bytes depend on what a real
 * build could observe (hostname, TZ, uid), so the right answer is known.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareInputs } from '../../src/compare/outcome.js';
import type { RunSpec } from '../../src/engine/port.js';
import { mergeRuns } from '../../src/merge/merge.js';
import { planBuild } from '../../src/plan/plan.js';
import { appliedVariations, TIME_SHIFT, VARIATION_NAMES, variationFor } from '../../src/plan/variations.js';
import { CULPRIT_SEARCH_DIR, describeCulprit, searchCulprits } from '../../src/runs/culprit.js';
import { executePlan } from '../../src/runs/execute.js';
import { progressText } from '../../src/runs/progress.js';
import { loadValidWorkspace } from '../../src/workspace/load.js';
import { type FakeOutcome, fakeEngine } from '../helpers/fakeEngine.js';
import { workspaceWithProbeBoard } from '../helpers/workspace.js';

let root: string;
const CORES = 2;
const prepareImage = async () => ({ id: `sha256:${'cd'.repeat(32)}`, tag: 'reprorom/firmware:cdcdcdcdcdcd' });

beforeEach(async () => {
  root = await workspaceWithProbeBoard(
    'rr-culprit-',
    'image: firmware\nsource: { type: local, path: src-probe }\ncommands: [make]\nartifacts: [out/*]\nsourceDateEpoch: 1\n',
  );
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const reference = variationFor(1, CORES);

/** The time a run's clock is frozen at, as its container command sets it (libfaketime). */
const frozenAt = (spec: RunSpec): number | undefined => {
  // The clock file's mtime is one second past the frozen time (see runs/script.ts).
  const m = /touch -d @(\d+) /.exec(spec.cmd.join(' '));
  return m ? Number(m[1]) - 1 : undefined;
};

/** The manifest.json of every run under a run folder. */
async function manifestsUnder(
  dir: string,
): Promise<
  Array<{ variations: { frozenClock?: number }; run: { culpritSearch?: { of: string; isolates: string } } }>
> {
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('manifest.json')).sort();
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8'))));
}

/** Build twice (reference + one varied run), then search: the whole path a user takes. */
async function buildAndSearch(build: (spec: RunSpec, nth: number) => FakeOutcome, runs = 2) {
  let nth = 0;
  const engine = fakeEngine(({ spec }) => build(spec, ++nth));
  const plan = planBuild(await loadValidWorkspace(root), {
    boards: ['probe'],
    runs,
    jobs: 1,
    cores: CORES,
  });
  const result = await executePlan(plan, { engine, prepareImage });
  const search = await searchCulprits(plan, result, CORES, { engine, prepareImage });
  return { search, engine };
}

describe('culprit search', () => {
  it('names the single variation that changes each artifact', async () => {
    const { search } = await buildAndSearch((spec) => ({
      exitCode: 0,
      files: {
        'out/host.txt': spec.hostname ?? '',
        'out/tz.txt': spec.env?.['TZ'] ?? '',
        'out/both.txt': `${spec.user} ${spec.env?.['LANG']}`,
        'out/same.txt': 'constant',
      },
    }));
    const byArtifact = Object.fromEntries(search.artifacts.map((a) => [a.artifact, a]));
    expect(byArtifact['artifacts/out/host.txt']).toMatchObject({
      verdict: 'variation',
      culprits: ['domain-host'],
    });
    expect(byArtifact['artifacts/out/tz.txt']).toMatchObject({
      verdict: 'variation',
      culprits: ['timezone'],
    });
    expect(byArtifact['artifacts/out/both.txt']?.culprits.sort()).toEqual(['locales', 'user-group']);
    // A file every run agrees on is never blamed.
    expect(byArtifact['artifacts/out/same.txt']).toBeUndefined();
    expect(describeCulprit(byArtifact['artifacts/out/host.txt']!)).toBe(
      'probe: out/host.txt differs when: domain-host',
    );
  });

  it('says so when only a combination of variations reproduces the difference', async () => {
    const { search } = await buildAndSearch((spec) => ({
      exitCode: 0,
      files: {
        'out/combo.txt':
          spec.hostname !== reference.hostname && spec.env?.['TZ'] !== reference.tz ? 'varied' : 'plain',
      },
    }));
    expect(search.artifacts).toEqual([
      { board: 'probe', artifact: 'artifacts/out/combo.txt', verdict: 'combination', culprits: [] },
    ]);
  });

  it('says the build is nondeterministic when the reference environment alone gives other bytes, even with the clock frozen', async () => {
    const { search, engine } = await buildAndSearch((_spec, nth) => ({
      exitCode: 0,
      files: { 'out/random.bin': `run ${nth}` },
    }));
    expect(search.artifacts).toEqual([
      { board: 'probe', artifact: 'artifacts/out/random.bin', verdict: 'nondeterministic', culprits: [] },
    ]);
    // The reference repeated, then twice with a frozen clock; no single-variation run is spent.
    expect(search.extraRuns).toBe(3);
    expect(engine.specs.slice(3).map(frozenAt)).toEqual([1, 1]);
  });

  it("the main job's seabios-qemu-naive (clock, host name, local time): 12 culprit reruns, the README's figure", async () => {
    // Its version string holds the local build time and the host name: once the clock is frozen,
    // the time zone still moves the rendered time.
    const { search } = await buildAndSearch((spec, nth) => ({
      exitCode: 0,
      files: {
        'out/bios.bin': `${frozenAt(spec) ?? `now${nth}`}@${spec.env?.['TZ'] ?? ''}-${spec.hostname}`,
      },
    }));
    expect(search.artifacts).toEqual([
      {
        board: 'probe',
        artifact: 'artifacts/out/bios.bin',
        verdict: 'variation',
        culprits: ['time', 'domain-host', 'timezone'],
      },
    ]);
    const others = appliedVariations(variationFor(2, CORES), CORES).filter((n) => n !== 'time');
    expect(others).toHaveLength(8);
    // 1 repeat of the reference + 2 frozen-clock runs + 9 group reruns (one per name: 8). The
    // README's "Set up and run" explains the main job's 22 with this count: change both together.
    expect(search.extraRuns).toBe(1 + 2 + 9);
  });

  it('names the wall clock when two reference runs differ but two with a frozen clock agree, then the other causes from the frozen reference', async () => {
    // SeaBIOS's naive version string: the time the build reads (a running clock moves between
    // runs; a frozen one does not) and the host name.
    const { search, engine } = await buildAndSearch((spec, nth) => ({
      exitCode: 0,
      files: { 'out/bios.bin': `1.16.2-${frozenAt(spec) ?? `now${nth}`}-${spec.hostname}` },
    }));
    expect(search.artifacts).toEqual([
      {
        board: 'probe',
        artifact: 'artifacts/out/bios.bin',
        verdict: 'variation',
        culprits: ['time', 'domain-host'],
      },
    ]);
    expect(describeCulprit(search.artifacts[0]!)).toBe('probe: out/bios.bin differs when: time, domain-host');
    // The clock is already named: no run that only moves it. The others from the frozen reference.
    const others = appliedVariations(variationFor(2, CORES), CORES).filter((n) => n !== 'time');
    // The reference repeated, twice frozen, then group reruns among the other varied names
    // (fewer than one per name: groups are halved).
    const searched = search.extraRuns - 3;
    expect(searched).toBeGreaterThan(0);
    expect(searched).toBeLessThan(others.length);
    expect(engine.specs).toHaveLength(2 + search.extraRuns);
    expect(frozenAt(engine.specs[2]!)).toBeUndefined();
    // All at SOURCE_DATE_EPOCH (1): none shifted by the time variation.
    expect(engine.specs.slice(3).map(frozenAt)).toEqual([1, 1, ...Array(searched).fill(1)]);
    expect(engine.specs.slice(3).some((spec) => frozenAt(spec) === 1 + TIME_SHIFT)).toBe(false);
    // The frozen runs say so in their manifests, so nobody takes them for ordinary ones.
    const frozen = (await Promise.all(search.runDirs.map(manifestsUnder))).flat();
    expect(frozen).toHaveLength(search.extraRuns);
    expect(frozen.map((m) => m.variations.frozenClock)).toEqual([
      undefined,
      1,
      1,
      ...Array(searched).fill(1),
    ]);
  });

  it('with a frozen clock, an artifact stable in the reference is still isolated, and the bound holds', async () => {
    const { search } = await buildAndSearch(
      (spec, nth) => ({
        exitCode: 0,
        files: {
          'out/stamp.txt': String(frozenAt(spec) ?? `now${nth}`),
          'out/tz.txt': spec.env?.['TZ'] ?? '',
        },
      }),
      3,
    );
    const byArtifact = Object.fromEntries(search.artifacts.map((a) => [a.artifact, a.culprits]));
    expect(byArtifact).toEqual({
      'artifacts/out/stamp.txt': ['time'],
      'artifacts/out/tz.txt': ['timezone'],
    });
    const varied = new Set([2, 3].flatMap((i) => appliedVariations(variationFor(i, CORES), CORES)));
    expect(search.extraRuns).toBeLessThanOrEqual(varied.size + 3);
    expect(search.extraRuns).toBeLessThanOrEqual(VARIATION_NAMES.length + 3);
  });

  it('finds one culprit with group reruns: one repeat of the reference, then at most ⌈log2 V⌉ + 2 reruns', async () => {
    const { search, engine } = await buildAndSearch((spec) => ({
      exitCode: 0,
      files: { 'out/host.txt': spec.hostname ?? '' },
    }));
    const varied = appliedVariations(variationFor(2, CORES), CORES);
    expect(search.artifacts).toEqual([
      { board: 'probe', artifact: 'artifacts/out/host.txt', verdict: 'variation', culprits: ['domain-host'] },
    ]);
    expect(search.extraRuns).toBeLessThanOrEqual(1 + Math.ceil(Math.log2(varied.length)) + 2);
    expect(search.extraRuns).toBeLessThan(varied.length + 1);
    // 2 runs of the build itself, then exactly the extra runs.
    expect(engine.specs).toHaveLength(2 + search.extraRuns);
    // One rerun changes the host name and nothing else of these from the reference: it names it.
    const alone = engine.specs
      .slice(3)
      .filter(
        (spec) =>
          spec.hostname !== reference.hostname &&
          spec.user === `${reference.uid}:${reference.uid}` &&
          spec.env?.['TZ'] === reference.tz &&
          spec.env?.['LANG'] === reference.locale,
      );
    expect(alone.length).toBeGreaterThan(0);
  });

  it('with three runs, a variation only run 3 makes (aslr) is isolated too, within the bound', async () => {
    // What a build can observe of each variation, as the container command and spec carry it.
    const observe = (spec: RunSpec) => ({
      'out/personality.txt': spec.cmd.join(' ').includes('flags="$flags -R"') ? 'no-aslr' : 'aslr',
      'out/cpus.txt': spec.cpusetCpus ?? 'all',
      'out/domain.txt': spec.domainname ?? '',
      'out/clock.txt': spec.cmd.join(' ').includes("FAKETIME='+") ? 'shifted' : 'real',
    });
    const { search, engine } = await buildAndSearch((spec) => ({ exitCode: 0, files: observe(spec) }), 3);
    const byArtifact = Object.fromEntries(search.artifacts.map((a) => [a.artifact, a.culprits]));
    expect(byArtifact).toEqual({
      'artifacts/out/personality.txt': ['aslr'],
      'artifacts/out/cpus.txt': ['num-cpus'],
      'artifacts/out/domain.txt': ['domain-host'],
      'artifacts/out/clock.txt': ['time'],
    });
    const varied = new Set([2, 3].flatMap((i) => appliedVariations(variationFor(i, CORES), CORES)));
    // Four artifacts, four culprits: about c·log2(V) group reruns plus the reference once more.
    expect(search.extraRuns).toBeLessThanOrEqual(1 + 4 * (Math.ceil(Math.log2(varied.size)) + 1));
    expect(engine.specs).toHaveLength(3 + search.extraRuns);
  });

  it("progress numbers a rerun run out of the board's highest index (run 3/3, never run 3/2)", async () => {
    const engine = fakeEngine(({ spec }) => ({
      exitCode: 0,
      files: { 'out/host.txt': spec.hostname ?? '' },
    }));
    const plan = planBuild(await loadValidWorkspace(root), {
      boards: ['probe'],
      runs: 3,
      jobs: 1,
      cores: CORES,
    });
    const result = await executePlan(plan, { engine, prepareImage });
    const said: string[] = [];
    await searchCulprits(plan, result, CORES, {
      engine,
      prepareImage,
      onProgress: (e) => {
        const line = progressText(e);
        if (line) said.push(line.text);
      },
    });
    const numbered = said.map((t) => /^run (\d+)\/(\d+) started/.exec(t)).filter((m) => m !== null);
    expect(numbered.length).toBeGreaterThan(1);
    for (const m of numbered) expect(Number(m[1])).toBeLessThanOrEqual(Number(m[2]));
  });

  it("reruns are marked in their manifests, live inside the build's run folder, and merge and compare leave them out unless asked", async () => {
    let nth = 0;
    const engine = fakeEngine(({ spec }) => ({
      exitCode: 0,
      files: { 'out/host.txt': `${spec.hostname ?? ''} ${++nth > 2 ? 'rerun' : ''}` },
    }));
    const plan = planBuild(await loadValidWorkspace(root), {
      boards: ['probe'],
      runs: 2,
      jobs: 1,
      cores: CORES,
    });
    const result = await executePlan(plan, { engine, prepareImage });
    const search = await searchCulprits(plan, result, CORES, { engine, prepareImage });
    expect(search.extraRuns).toBeGreaterThan(0);
    // Never beside the build in runs/: the newest run folder is still the build's own.
    expect(await readdir(dirname(result.runDir))).toEqual([basename(result.runDir)]);
    for (const dir of search.runDirs)
      expect(dir.startsWith(join(result.runDir, CULPRIT_SEARCH_DIR))).toBe(true);
    const reruns = (await Promise.all(search.runDirs.map(manifestsUnder))).flat();
    expect(reruns.length).toBe(search.extraRuns);
    for (const m of reruns) {
      expect(m.run.culpritSearch?.of).toBe(result.runId);
      // "reference", or the names a group rerun changes, joined by "+".
      for (const name of m.run.culpritSearch?.isolates.split('+') ?? [])
        expect(['reference', ...VARIATION_NAMES]).toContain(name);
    }
    // The build's own runs are not marked.
    for (const m of await manifestsUnder(join(result.runDir, 'probe')))
      expect(m.run.culpritSearch).toBeUndefined();

    // Merge of the whole runs/ folder (what CI uploads) and of the reruns' folder by name.
    const out = join(root, 'merged');
    const merged = await mergeRuns([result.runDir, ...search.runDirs], out);
    expect(merged.runs.map((r) => r.runId)).toEqual([result.runId, result.runId]);
    expect(merged.notes.join('\n')).toMatch(
      new RegExp(`left out ${search.extraRuns} culprit-search reruns?`),
    );
    const withReruns = await mergeRuns([result.runDir, ...search.runDirs], join(root, 'all'), {
      culpritRuns: true,
    });
    expect(withReruns.runs.length).toBe(2 + search.extraRuns);

    const cmp = await compareInputs([result.runDir, ...search.runDirs], { diffoscope: null });
    expect(cmp.comparison.inputs.length).toBe(2);
    expect(cmp.comparison.notes.join('\n')).toMatch(/culprit-search rerun/);
    const only = await compareInputs(search.runDirs, { diffoscope: null }).catch((e: unknown) => e);
    expect(String(only)).toMatch(/is a culprit-search rerun, not a run of a build/);
    const asked = await compareInputs(search.runDirs, { diffoscope: null, culpritRuns: true });
    expect(asked.comparison.inputs.length).toBe(search.extraRuns);
  });

  it('runs nothing extra when every run agrees', async () => {
    const { search, engine } = await buildAndSearch(() => ({
      exitCode: 0,
      files: { 'out/rom.bin': 'same' },
    }));
    expect(search).toEqual({ runDirs: [], extraRuns: 0, artifacts: [] });
    expect(engine.specs).toHaveLength(2);
  });
});

describe('culprit search by groups: reruns counted', () => {
  // What a build can observe of three variations, each alone enough to change the ROM.
  const observed = {
    'domain-host': (spec: RunSpec) => spec.hostname ?? '',
    timezone: (spec: RunSpec) => spec.env?.['TZ'] ?? '',
    'user-group': (spec: RunSpec) => spec.user ?? '',
  } as const;
  const culprits = Object.keys(observed) as Array<keyof typeof observed>;
  const varied = appliedVariations(variationFor(2, CORES), CORES);

  for (const c of [1, 2, 3]) {
    it(`names ${c} culprit(s) among ${varied.length} varied names in about c·log2(V) reruns, fewer than one per name`, async () => {
      const chosen = culprits.slice(0, c);
      const { search, engine } = await buildAndSearch((spec) => ({
        exitCode: 0,
        files: { 'out/rom.bin': chosen.map((n) => observed[n](spec)).join(' ') },
      }));
      expect(search.artifacts).toEqual([
        {
          board: 'probe',
          artifact: 'artifacts/out/rom.bin',
          verdict: 'variation',
          culprits: VARIATION_NAMES.filter((n) => (chosen as string[]).includes(n)),
        },
      ]);
      // The reference once more, then the group reruns: each culprit costs at most ⌈log2 V⌉ + 2.
      const searched = search.extraRuns - 1;
      expect(searched).toBeLessThanOrEqual(c * (Math.ceil(Math.log2(varied.length)) + 2));
      if (c === 1) expect(searched).toBeLessThanOrEqual(Math.ceil(Math.log2(varied.length)) + 2);
      expect(engine.specs).toHaveLength(2 + search.extraRuns);
      console.log(
        `culprit search: ${c} culprit(s) among ${varied.length}: ${search.extraRuns} extra runs (one per name: ${varied.length + 1})`,
      );
    });
  }
});
