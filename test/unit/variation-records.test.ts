/**
 * What a run records about its variations: the container's "not applied" lines (read only
 * before the board's commands start, so a build cannot forge them), the board's reasons to
 * turn one off, and the plan's own (one CPU) — in manifest.json, the provenance and --json.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planBuild } from '../../src/plan/plan.js';
import { buildReportJson } from '../../src/runs/buildReportJson.js';
import { executePlan } from '../../src/runs/execute.js';
import { VARIATION_END } from '../../src/runs/script.js';
import { loadValidWorkspace } from '../../src/workspace/load.js';
import { fakeEngine } from '../helpers/fakeEngine.js';
import { workspaceWithProbeBoard } from '../helpers/workspace.js';

let root: string;
const prepareImage = async () => ({ id: `sha256:${'cd'.repeat(32)}`, tag: 'reprorom/firmware:cdcdcdcdcdcd' });

beforeEach(async () => {
  root = await workspaceWithProbeBoard(
    'rr-vrec-',
    'image: firmware\nsource: { type: local, path: src-probe }\ncommands: [make]\nartifacts: [out/*]\nvary:\n  time:\n    off: the banner shows the date\n',
  );
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('variation records', () => {
  it("a run turning ASLR off gets reprorom's seccomp profile; an engine that refuses it gives the reason, and setarch -R is not tried", async () => {
    const plan = planBuild(await loadValidWorkspace(root), { boards: ['probe'], runs: 3, jobs: 1, cores: 2 });
    const taking = fakeEngine(() => ({ exitCode: 0, files: { 'out/rom.bin': 'same' } }));
    await executePlan(plan, { engine: taking, prepareImage });
    const run3 = taking.specs.find((s) => s.labels?.['reprorom.index'] === '3')!;
    expect(run3.securityOpt?.[0]).toBe('no-new-privileges');
    expect(JSON.parse(run3.securityOpt?.[1]?.replace(/^seccomp=/, '') ?? '{}').defaultAction).toBe(
      'SCMP_ACT_ALLOW',
    );
    expect(run3.cmd.join(' ')).toContain('-R');
    // The other runs keep the engine's default profile.
    const run1 = taking.specs.find((s) => s.labels?.['reprorom.index'] === '1')!;
    expect(run1.securityOpt).toBeUndefined();

    const refusing = fakeEngine(() => ({ exitCode: 0, files: { 'out/rom.bin': 'same' } }));
    refusing.createContainer = async () => {
      throw new Error('(HTTP code 500) server error - seccomp profiles are not supported here');
    };
    const result = await executePlan(plan, { engine: refusing, prepareImage });
    const refused = result.boards[0]!.runs.find((r) => r.index === 3)!;
    expect(refused.notApplied?.['aslr']).toMatch(
      /^the engine refused reprorom's seccomp profile \(needed for setarch -R\): .*seccomp profiles are not supported here$/,
    );
    const spec = refusing.specs.find((s) => s.labels?.['reprorom.index'] === '3')!;
    expect(spec.securityOpt).toBeUndefined();
    expect(spec.cmd.join(' ')).not.toContain(' -R ');
    const manifest = JSON.parse(await readFile(join(refused.outDir!, 'manifest.json'), 'utf8'));
    expect(manifest.variations.aslr).toBe(false);
    expect(manifest.variations.notApplied.aslr).toBe(refused.notApplied?.['aslr']);
  });

  it('not applied (with why) and off (with why) reach manifest.json, provenance.json and --json', async () => {
    const engine = fakeEngine(() => ({
      exitCode: 0,
      files: { 'out/rom.bin': 'same' },
      log: [
        'reprorom-variation: kernel not applied: the image has no setarch (util-linux)',
        VARIATION_END,
        // After the end mark the board's commands run: what they print is not a record.
        'reprorom-variation: umask not applied: forged by the build',
      ],
    }));
    const plan = planBuild(await loadValidWorkspace(root), { boards: ['probe'], runs: 2, jobs: 1, cores: 1 });
    const result = await executePlan(plan, { engine, prepareImage });
    const run2 = result.boards[0]!.runs.find((r) => r.index === 2)!;
    expect(run2.notApplied).toEqual({
      kernel: 'the image has no setarch (util-linux)',
      'num-cpus': 'this machine gives builds 1 CPU, so the CPU count cannot differ',
    });
    const manifest = JSON.parse(await readFile(join(run2.outDir!, 'manifest.json'), 'utf8'));
    expect(manifest.variations.notApplied.kernel).toBe('the image has no setarch (util-linux)');
    expect(manifest.variations.notApplied.umask).toBeUndefined();
    expect(manifest.variations.off.time).toBe('turned off by the board: the banner shows the date');
    expect(manifest.variations.timeShift).toBe(0);
    const provenance = JSON.parse(await readFile(join(run2.outDir!, 'provenance.json'), 'utf8'));
    expect(provenance.predicate.buildDefinition.internalParameters.variations.off).toEqual(
      manifest.variations.off,
    );
    // Agreeing runs still have identical statements.
    const run1 = result.boards[0]!.runs.find((r) => r.index === 1)!;
    expect(await readFile(join(run1.outDir!, 'provenance.json'), 'utf8')).toBe(
      await readFile(join(run2.outDir!, 'provenance.json'), 'utf8'),
    );
    const json = buildReportJson(result, null, null);
    expect(json.boards[0]?.vary.off['time']).toBe('turned off by the board: the banner shows the date');
    expect(json.boards[0]?.vary.notApplied['num-cpus']).toMatch(/1 CPU/);
    expect(json.boards[0]?.runs[1]?.notApplied['kernel']).toBe('the image has no setarch (util-linux)');
  });

  it("the records are not the board's output: progress hears only what follows the end mark", async () => {
    const engine = fakeEngine(() => ({
      exitCode: 0,
      files: { 'out/rom.bin': 'same' },
      log: [
        'reprorom-variation: time applied',
        VARIATION_END,
        'cc -o rom.bin',
        'reprorom-variation: printed by make',
      ],
    }));
    const heard: string[] = [];
    const plan = planBuild(await loadValidWorkspace(root), { boards: ['probe'], runs: 1, jobs: 1, cores: 1 });
    await executePlan(plan, {
      engine,
      prepareImage,
      onProgress: (e) => e.type === 'output' && heard.push(e.line),
    });
    expect(heard).toEqual(['cc -o rom.bin', 'reprorom-variation: printed by make']);
  });
});
