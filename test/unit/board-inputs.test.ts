/**
 * Boards that feed boards: the workspace check (unknown board or artifact, a cycle, with
 * positions), the plan (producers first, a consumer pulls its producers in), and the executor
 * with a fake engine (run i of a consumer gets run i of its producer, inputs recorded with
 * their sha256 in manifest.json and provenance.json, a changed artifact refused, a failed
 * producer named, a consumer's mismatch blamed on the input that differed).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImagePreparer } from '../../src/imagebuild/prepare.js';
import { planBuild } from '../../src/plan/plan.js';
import { inputDifferences } from '../../src/provenance/inputs.js';
import { searchCulprits } from '../../src/runs/culprit.js';
import { executePlan } from '../../src/runs/execute.js';
import { artifactCovers } from '../../src/workspace/inputs.js';
import { loadValidWorkspace, loadWorkspace } from '../../src/workspace/load.js';
import { runCli } from '../helpers/cli.js';
import { type FakeBuild, type FakeOutcome, fakeEngine } from '../helpers/fakeEngine.js';
import { copyWorkspace } from '../helpers/workspace.js';

let root: string;
let savedCache: string | undefined;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function board(src: string, artifacts: string[], inputs: string[] = []): string {
  return [
    'image: firmware',
    'source:',
    '  type: local',
    `  path: ${src}`,
    'commands:',
    '  - make',
    'artifacts:',
    ...artifacts.map((a) => `  - ${a}`),
    'sourceDateEpoch: 1700000000',
    ...(inputs.length ? ['inputs:', ...inputs] : []),
    '',
  ].join('\n');
}

const fromBoard = (producer: string, artifact: string, path: string) => [
  '  - type: board',
  `    board: ${producer}`,
  `    artifact: ${artifact}`,
  `    path: ${path}`,
];

async function writeBoard(name: string, text: string) {
  await mkdir(join(root, `src-${name}`), { recursive: true });
  await writeFile(join(root, `src-${name}`, 'main.c'), `int ${name};\n`);
  await writeFile(join(root, 'boards', `${name}.yaml`), text);
}

beforeEach(async () => {
  root = await copyWorkspace('rr-inputs-');
  savedCache = process.env['REPROROM_CACHE'];
  process.env['REPROROM_CACHE'] = join(root, 'cache');
  await rm(join(root, 'boards'), { recursive: true });
  await mkdir(join(root, 'boards'));
  // payload → rom → image: a chain of three, named so that sorted order is not build order.
  await writeBoard('payload', board('src-payload', ['out/payload.elf', 'out/*.map']));
  await writeBoard(
    'rom',
    board('src-rom', ['build/rom.bin'], fromBoard('payload', 'out/payload.elf', 'payloads/seabios.elf')),
  );
  await writeBoard('alone', board('src-alone', ['out/alone.bin']));
});

afterEach(async () => {
  if (savedCache === undefined) delete process.env['REPROROM_CACHE'];
  else process.env['REPROROM_CACHE'] = savedCache;
  await rm(root, { recursive: true, force: true });
});

describe('reprorom check: board inputs', () => {
  it('accepts a valid chain', async () => {
    const { problems } = await loadWorkspace(root);
    expect(problems).toEqual([]);
  });

  it('names an unknown board and an undeclared artifact at their positions', async () => {
    await writeBoard(
      'rom',
      board(
        'src-rom',
        ['build/rom.bin'],
        [
          ...fromBoard('paylod', 'out/payload.elf', 'a.elf'),
          ...fromBoard('payload', 'out/missing.elf', 'b.elf'),
          ...fromBoard('payload', 'out/x.map', 'c.map'),
        ],
      ),
    );
    const { problems } = await loadWorkspace(root);
    const lines = problems.map(
      (p) => `${p.file.slice(p.file.indexOf('boards/'))}:${p.line}:${p.col}: ${p.message}`,
    );
    expect(lines).toEqual([
      'boards/rom.yaml:12:12: board "paylod" does not exist (did you mean "payload"?), expected one of: alone, payload, rom',
      'boards/rom.yaml:17:15: board "payload" declares no artifact "out/missing.elf", expected one of: out/payload.elf, out/*.map',
    ]);
  });

  it('refuses a cycle, naming it, at the input that closes it', async () => {
    await writeBoard(
      'payload',
      board('src-payload', ['out/payload.elf'], fromBoard('rom', 'build/rom.bin', 'rom.bin')),
    );
    const { problems } = await loadWorkspace(root);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.file.endsWith('boards/rom.yaml')).toBe(true);
    expect(problems[0]).toMatchObject({ line: 12, col: 12 });
    expect(problems[0]?.message).toBe(
      'boards feed each other in a cycle (payload → rom → payload), expected producers that do not depend on their consumers',
    );
  });

  it('refuses a board that feeds itself, two inputs on one path, and a path outside the source', async () => {
    await writeBoard(
      'rom',
      board(
        'src-rom',
        ['build/rom.bin'],
        [
          ...fromBoard('rom', 'build/rom.bin', 'a.bin'),
          ...fromBoard('payload', 'out/payload.elf', 'b.elf'),
          ...fromBoard('payload', 'out/payload.elf', 'b.elf'),
          ...fromBoard('payload', 'out/payload.elf', '../escape.elf'),
        ],
      ),
    );
    const messages = (await loadWorkspace(root)).problems.map((p) => `${p.line}: ${p.message}`);
    expect(messages).toEqual([
      '26: inputs.3.path: expected a file path relative to the source, without ".." or a leading "/"',
    ]);
    // With the bad path fixed, the cross-board rules speak.
    await writeBoard(
      'rom',
      board(
        'src-rom',
        ['build/rom.bin'],
        [
          ...fromBoard('rom', 'build/rom.bin', 'a.bin'),
          ...fromBoard('payload', 'out/payload.elf', 'b.elf'),
          ...fromBoard('payload', 'out/payload.elf', 'b.elf'),
        ],
      ),
    );
    const again = (await loadWorkspace(root)).problems.map((p) => `${p.line}: ${p.message}`);
    expect(again).toEqual([
      '22: input path "b.elf" is also used by inputs[1], expected one file per path',
      '12: board "rom" takes an input from itself, expected another board',
    ]);
  });

  it('the CLI exits 2 with FILE:LINE:COL for a cycle', async () => {
    await writeBoard(
      'payload',
      board('src-payload', ['out/payload.elf'], fromBoard('rom', 'build/rom.bin', 'rom.bin')),
    );
    const r = await runCli(['check', '--workspace', root], { timeoutMs: 60_000 });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(
      /boards\/rom\.yaml:12:12: boards feed each other in a cycle \(payload → rom → payload\)/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('matches globs of the producer the way the shell would, one folder level per *', () => {
    expect(artifactCovers('out/*.map', 'out/x.map')).toBe(true);
    expect(artifactCovers('out/*.map', 'out/sub/x.map')).toBe(false);
    expect(artifactCovers('out/rom.bin', 'out/rom.bin')).toBe(true);
    expect(artifactCovers('out/rom.bin', 'out/rom.bim')).toBe(false);
  });
});

describe('plan: producers before consumers', () => {
  it('building a consumer builds its producers first; --all orders the graph', async () => {
    const ws = await loadValidWorkspace(root);
    const one = planBuild(ws, { boards: ['rom'], runs: 2, jobs: 1, cores: 2 });
    expect(one.boards.map((b) => b.name)).toEqual(['payload', 'rom']);
    const all = planBuild(ws, { boards: [], all: true, runs: 2, jobs: 1, cores: 2 });
    expect(all.boards.map((b) => b.name)).toEqual(['alone', 'payload', 'rom']);
    const both = planBuild(ws, { boards: ['rom', 'payload'], runs: 1, jobs: 1, cores: 2 });
    expect(both.boards.map((b) => b.name)).toEqual(['payload', 'rom']);
  });
});

const preparer: ImagePreparer = async (image) => ({
  id: `sha256:${'ab'.repeat(32)}`,
  tag: `reprorom/${image.name}:abababababab`,
});

/** payload's ELF carries the run's hostname when `leaky`: a producer that is not reproducible. */
function chainBuild(opts: { leaky?: boolean; failPayloadRun?: number } = {}) {
  return (b: FakeBuild): FakeOutcome => {
    const name = b.spec.labels?.['reprorom.board'];
    const index = Number(b.spec.labels?.['reprorom.index']);
    if (name === 'payload') {
      if (opts.failPayloadRun === index) return { exitCode: 1 };
      return {
        exitCode: 0,
        files: { 'out/payload.elf': opts.leaky ? `elf built on ${b.spec.hostname}` : 'elf' },
      };
    }
    return {
      exitCode: 0,
      files: { 'build/rom.bin': `rom with ${b.sourceText['src/payloads/seabios.elf']}` },
    };
  };
}

describe('executePlan: inputs with a fake engine', () => {
  it("places run i of the producer's artifact in run i of the consumer, and records it", async () => {
    const plan = planBuild(await loadValidWorkspace(root), { boards: ['rom'], runs: 2, jobs: 2, cores: 2 });
    const seen: string[][] = [];
    const tracing = fakeEngine((b) => {
      if (b.spec.labels?.['reprorom.board'] === 'rom') seen.push(b.sourceFiles);
      return chainBuild({ leaky: true })(b);
    });
    const result = await executePlan(plan, { engine: tracing, prepareImage: preparer });
    expect(result.boards.map((b) => b.runs.map((r) => r.ok))).toEqual([
      [true, true],
      [true, true],
    ]);
    // The consumer saw its source and the input, in a folder the source did not have.
    for (const names of seen) {
      expect(names).toContain('src/main.c');
      expect(names).toContain('src/payloads/seabios.elf');
      expect(names.indexOf('src/payloads')).toBeLessThan(names.indexOf('src/payloads/seabios.elf'));
    }
    for (const index of [1, 2]) {
      const producer = JSON.parse(
        await readFile(join(result.runDir, 'payload', String(index), 'manifest.json'), 'utf8'),
      );
      const consumer = JSON.parse(
        await readFile(join(result.runDir, 'rom', String(index), 'manifest.json'), 'utf8'),
      );
      const elf = `elf built on ${producer.variations.hostname}`;
      expect(consumer.inputs).toEqual([
        {
          type: 'board',
          path: 'payloads/seabios.elf',
          sha256: sha256(elf),
          size: elf.length,
          board: 'payload',
          artifact: 'out/payload.elf',
          run: index,
        },
      ]);
      const provenance = JSON.parse(
        await readFile(join(result.runDir, 'rom', String(index), 'provenance.json'), 'utf8'),
      );
      expect(provenance.predicate.buildDefinition.resolvedDependencies).toContainEqual({
        name: 'input/payloads/seabios.elf',
        digest: { sha256: sha256(elf) },
        annotations: { artifact: 'out/payload.elf', board: 'payload' },
      });
      // A board without inputs writes the manifest it always wrote.
      expect(producer).not.toHaveProperty('inputs');
    }
  });

  it('with --jobs 2 an independent board takes the free slot while a consumer waits for its producer', async () => {
    // Plan order: payload, rom, alone. rom cannot start before payload is done; alone can.
    const plan = planBuild(await loadValidWorkspace(root), {
      boards: ['rom', 'alone'],
      runs: 1,
      jobs: 2,
      cores: 2,
    });
    expect(plan.boards.map((b) => b.name)).toEqual(['payload', 'rom', 'alone']);
    const engine = fakeEngine((b) => {
      const name = b.spec.labels?.['reprorom.board'];
      if (name === 'alone') return { exitCode: 0, files: { 'out/alone.bin': 'x' }, delayMs: 50 };
      return { ...chainBuild()(b), delayMs: 50 };
    });
    const result = await executePlan(plan, { engine, prepareImage: preparer });
    expect(result.boards.flatMap((b) => b.runs.map((r) => r.ok))).toEqual([true, true, true]);
    const runsAndEnds = engine.calls.filter((c) => c.startsWith('run ') || c.startsWith('removed'));
    // payload and alone run together (both start in the same tick, in either order); rom starts
    // only after a container was removed.
    expect([...runsAndEnds.slice(0, 2)].sort()).toEqual(['run alone#1', 'run payload#1']);
    expect(runsAndEnds.indexOf('run rom#1')).toBeGreaterThan(2);
    expect(engine.maxRunning).toBe(2);
  });

  it("fails the consumer's run by name when its producer's run failed, and runs the rest", async () => {
    const plan = planBuild(await loadValidWorkspace(root), { boards: ['rom'], runs: 2, jobs: 1, cores: 2 });
    const engine = fakeEngine(chainBuild({ failPayloadRun: 2 }));
    const result = await executePlan(plan, { engine, prepareImage: preparer });
    const rom = result.boards.find((b) => b.board === 'rom');
    expect(rom?.runs.map((r) => r.ok)).toEqual([true, false]);
    expect(rom?.runs[1]?.error).toBe(
      'board rom run 2: input payloads/seabios.elf (board payload, artifact out/payload.elf) is missing: run 2 of payload failed',
    );
    expect(engine.calls.filter((c) => c.startsWith('run '))).toEqual([
      'run payload#1',
      'run payload#2',
      'run rom#1',
    ]);
  });

  it('refuses a producer artifact changed after it was built, naming both hashes', async () => {
    const plan = planBuild(await loadValidWorkspace(root), { boards: ['rom'], runs: 1, jobs: 1, cores: 2 });
    // Between payload's run and rom's input check: rom's "started" event comes first.
    const tamper = async () => {
      const runs = join(root, '.reprorom', 'runs');
      const [id] = await readdir(runs);
      await writeFile(join(runs, id ?? '', 'payload', '1', 'artifacts', 'out', 'payload.elf'), 'evil');
    };
    let tampered: Promise<void> | undefined;
    const result = await executePlan(plan, {
      engine: fakeEngine(async (b) => {
        await tampered;
        return chainBuild()(b);
      }),
      prepareImage: preparer,
      onProgress: (e) => {
        if (e.type === 'run' && e.board === 'rom' && e.index === 1 && e.state === 'started')
          tampered = tamper();
      },
    });
    const rom = result.boards.find((b) => b.board === 'rom');
    expect(rom?.runs[0]?.ok).toBe(false);
    expect(rom?.runs[0]?.error).toBe(
      `board rom run 1: input payloads/seabios.elf (board payload, artifact out/payload.elf) changed after it was built: payload's manifest says sha256 ${sha256('elf')}, the file has ${sha256('evil')}`,
    );
  });

  it('blames a consumer mismatch on the input that differed, without rebuilding the consumer', async () => {
    const plan = planBuild(await loadValidWorkspace(root), { boards: ['rom'], runs: 2, jobs: 1, cores: 2 });
    const engine = fakeEngine(chainBuild({ leaky: true }));
    const result = await executePlan(plan, { engine, prepareImage: preparer });
    const before = engine.calls.filter((c) => c.startsWith('run ')).length;
    const search = await searchCulprits(plan, result, 2, { engine, prepareImage: preparer });
    const rom = search.artifacts.filter((a) => a.board === 'rom');
    expect(rom).toEqual([
      {
        board: 'rom',
        artifact: 'artifacts/build/rom.bin',
        verdict: 'input',
        culprits: ['input payloads/seabios.elf (board payload, artifact out/payload.elf)'],
      },
    ]);
    // The producer itself gets the usual search; the consumer is not rebuilt.
    const extra = engine.calls.filter((c) => c.startsWith('run ')).slice(before);
    expect(extra.every((c) => c.startsWith('run payload#'))).toBe(true);
    expect(search.artifacts.find((a) => a.board === 'payload')?.verdict).toBe('variation');
  });

  it('places a pinned file input, verified by its sha256, and refuses one with the wrong hash', async () => {
    const file = join(root, 'kernel.img');
    await writeFile(file, 'a kernel');
    const url = pathToFileURL(file).href;
    const withUrl = (hash: string) =>
      board(
        'src-alone',
        ['out/alone.bin'],
        ['  - type: url', `    url: ${url}`, `    sha256: ${hash}`, '    path: boot/vmlinuz'],
      );
    await writeBoard('alone', withUrl(sha256('a kernel')));
    const engine = fakeEngine((b) => ({ exitCode: 0, files: { 'out/alone.bin': b.sourceFiles.join(',') } }));
    const plan = planBuild(await loadValidWorkspace(root), { boards: ['alone'], runs: 1, jobs: 1, cores: 2 });
    const result = await executePlan(plan, { engine, prepareImage: preparer });
    const m = JSON.parse(await readFile(join(result.runDir, 'alone', '1', 'manifest.json'), 'utf8'));
    expect(m.inputs).toEqual([
      { type: 'url', path: 'boot/vmlinuz', sha256: sha256('a kernel'), size: 8, url },
    ]);
    expect(engine.specs).toHaveLength(1);
    await writeBoard('alone', withUrl(sha256('another kernel')));
    const bad = planBuild(await loadValidWorkspace(root), { boards: ['alone'], runs: 1, jobs: 1, cores: 2 });
    const err = await executePlan(bad, { engine, prepareImage: preparer }).catch((e: unknown) => e);
    expect((err as Error).message).toContain(
      `sha256 mismatch for ${url}: expected ${sha256('another kernel')}`,
    );
  });

  it('refuses an input placed on a file the source already has', async () => {
    // A local source is seen at check: refused at the input's position, in any spelling.
    await writeBoard(
      'rom',
      board('src-rom', ['build/rom.bin'], fromBoard('payload', 'out/payload.elf', './main.c')),
    );
    const refused = await loadValidWorkspace(root).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(
      /boards\/rom\.yaml:\d+:\d+: input path "main\.c" would replace the source's file "main\.c", expected a path the source does not use$/m,
    );
    // Any source is checked again when the build lays the inputs out (here: a file that appeared after check).
    await writeBoard(
      'rom',
      board('src-rom', ['build/rom.bin'], fromBoard('payload', 'out/payload.elf', 'late.c')),
    );
    const plan = planBuild(await loadValidWorkspace(root), { boards: ['rom'], runs: 1, jobs: 1, cores: 2 });
    await writeFile(join(root, 'src-rom', 'late.c'), 'int late;\n');
    const engine = fakeEngine(chainBuild());
    const err = await executePlan(plan, { engine, prepareImage: preparer }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'board rom: input path "late.c" cannot be used: the source already has a file there',
    );
  });
});

describe('verify: inputs of a rebuild against the release provenance', () => {
  const record = {
    type: 'board' as const,
    path: 'p.elf',
    size: 1,
    board: 'payload',
    artifact: 'out/payload.elf',
  };
  const recorded = [
    { name: 'source', digest: { sha256: 'aa' } },
    {
      name: 'input/p.elf',
      digest: { sha256: 'a'.repeat(64) },
      annotations: { board: 'payload', artifact: 'out/payload.elf' },
    },
  ];
  it('agrees when the rebuilt producer gives the same bytes', () => {
    expect(inputDifferences(recorded, [{ ...record, sha256: 'a'.repeat(64) }])).toEqual([]);
  });
  it('names the input and its producer when a byte of the payload differs', () => {
    expect(inputDifferences(recorded, [{ ...record, sha256: 'b'.repeat(64) }])).toEqual([
      `input p.elf (board payload, artifact out/payload.elf): the release was built with sha256 ${'a'.repeat(64)}, the rebuild of board payload gave ${'b'.repeat(64)}`,
    ]);
    expect(inputDifferences(recorded, [])).toEqual([
      'input p.elf (board payload, artifact out/payload.elf): the release had it, the rebuild did not',
    ]);
  });
});
