/**
 * Issue 17: every variation takes effect, observed from inside a real build. The probe board
 * (boards/probe-variations.yaml, source probe/) writes one file per variation; built with
 * --runs 3 every variation-dependent file must be a mismatch whose culprit is its variation.
 * What this machine cannot apply (ASLR off under Docker's default seccomp profile) must be
 * recorded as not applied, never dropped silently. Real engine, real nix.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VARIATION_NAMES } from '../../src/plan/variations.js';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

const engine = await probeEngine();
const nix = await probeNix();
const skip = skipUnlessReal(engine) || skipUnlessReal(nix);
const BOUND = { timeoutMs: 540_000 };

interface RunJson {
  index: number;
  ok: boolean;
  dir: string | null;
  variations: string[];
  notApplied: Record<string, string>;
}
interface BuildJson {
  runDir: string;
  boards: Array<{
    board: string;
    vary: { on: string[]; off: Record<string, string>; notApplied: Record<string, string> };
    runs: RunJson[];
  }>;
  comparison: {
    ok: boolean;
    okExceptExpected?: boolean;
    artifacts: Array<{ name: string; verdict: string }>;
  } | null;
  culprits: {
    extraRuns: number;
    artifacts: Array<{ artifact: string; verdict: string; culprits: string[] }>;
  } | null;
}

/** Every variation reprorom knows: the probe board must show each one. */
const VARIATIONS = VARIATION_NAMES;

describe.skipIf(skip)('variations take effect inside real builds (probe board)', () => {
  let ws = '';
  let json: BuildJson;
  const file = (run: number, name: string) =>
    readFile(join(json.runDir, 'probe-variations', String(run), 'artifacts', 'out', `${name}.txt`), 'utf8');

  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    ws = await copyWorkspace('rr-vary-');
    const r = await runCli(
      [
        'build',
        'probe-variations',
        '--runs',
        '3',
        // Runs of seconds: at once, so the 3 runs and the culprit search's extra runs stay quick.
        '--jobs',
        '3',
        '--vary',
        'build-path',
        '--json',
        '--junit',
        join(ws, 'j.xml'),
        '-w',
        ws,
      ],
      BOUND,
    );
    // The board declares expectMismatch: its mismatches are reported as expected, exit 0.
    expect(r.exitCode, r.stderr).toBe(0);
    json = JSON.parse(r.stdout) as BuildJson;
    expect(json.comparison?.okExceptExpected).toBe(true);
  }, 600_000);
  afterAll(async () => {
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  it('every variation-dependent artifact is a mismatch, and its culprit is its own variation', () => {
    const board = json.boards[0]!;
    const notApplied = new Set(board.runs.flatMap((r) => Object.keys(r.notApplied)));
    const verdicts = Object.fromEntries((json.comparison?.artifacts ?? []).map((a) => [a.name, a.verdict]));
    const culprits = Object.fromEntries(
      (json.culprits?.artifacts ?? []).map((a) => [a.artifact.replace(/^artifacts\/out\//, ''), a.culprits]),
    );
    for (const name of VARIATIONS) {
      if (notApplied.has(name)) {
        // Not applied here: the build saw no difference, and the record says why.
        expect(verdicts[`${name}.txt`], name).toBe('reproducible');
        continue;
      }
      expect(verdicts[`${name}.txt`], name).toBe('mismatch');
      expect(culprits[`${name}.txt`], name).toEqual([name]);
    }
    // Bounded: the reference once more, then one run per varied name at most.
    expect(json.culprits?.extraRuns).toBeLessThanOrEqual(VARIATIONS.length + 1);
  });

  it('the build saw each change: a later clock, an old kernel, one CPU, another locale', async () => {
    const year = (s: string) => Number(s.slice(0, 4));
    expect(year(await file(2, 'time'))).toBeGreaterThan(year(await file(1, 'time')));
    expect(await file(2, 'kernel')).toMatch(/^2\.6\./);
    // ASLR off, read from inside the build: ADDR_NO_RANDOMIZE (0x40000) in /proc/self/personality.
    expect(await file(3, 'aslr')).toBe(`${0x40000}\n`);
    expect(await file(1, 'aslr')).toBe('0\n');
    expect(await file(1, 'kernel')).not.toMatch(/^2\.6\./);
    expect((await file(2, 'num-cpus')).split('\n').slice(0, 2)).toEqual(['1', '-j1']);
    // sort and date follow the locale: C.UTF-8 sorts capitals first; fr_CH does not and says "jeudi".
    expect(await file(1, 'locales')).toBe('A\nB\na\nb\nThursday\n');
    expect(await file(2, 'locales')).toBe('a\nA\nb\nB\njeudi\n');
    expect(await file(2, 'timezone')).toBe('14+1400\n');
    expect(await file(2, 'build-path')).toBe('/build/variant/path/src\n');
    // readdir order: ls -U, find and os.listdir all see another order.
    const order = (s: string) => s.split('\n').slice(0, 24);
    expect(order(await file(2, 'fileordering'))).not.toEqual(order(await file(1, 'fileordering')));
    expect([...order(await file(2, 'fileordering'))].sort()).toEqual(
      [...order(await file(1, 'fileordering'))].sort(),
    );
  });

  it('each run records what it varied, and what it could not apply, in manifest.json and the output', async () => {
    const manifest = async (run: number) =>
      JSON.parse(await readFile(join(json.runDir, 'probe-variations', String(run), 'manifest.json'), 'utf8'))
        .variations as Record<string, unknown>;
    const two = await manifest(2);
    expect(two).toMatchObject({ kernel: 'uname-2.6', cpus: 1, jobs: 1, locale: 'fr_CH.UTF-8' });
    expect(two['timeShift']).toBeGreaterThan(365 * 86400);
    const three = await manifest(3);
    expect(three['aslr']).toBe(false);
    const board = json.boards[0]!;
    const run3 = board.runs.find((r) => r.index === 3)!;
    // reprorom's seccomp profile lets setarch -R through (the engine's default refuses it).
    expect(run3.notApplied['aslr']).toBeUndefined();
    expect(three['notApplied']?.['aslr' as never]).toBeUndefined();
    // Nothing applied silently either: the kernel run says it applied it.
    const log = await readFile(join(json.runDir, 'probe-variations.log'), 'utf8');
    expect(log).toMatch(/\[probe-variations#2\] reprorom-variation: kernel applied/);
    expect(log).toMatch(/\[probe-variations#2\] reprorom-variation: time applied/);
    expect(log).toMatch(/\[probe-variations#3\] reprorom-variation: aslr applied/);
  });
});

describe.skipIf(skip)('choosing variations (real engine)', () => {
  let ws = '';
  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    ws = await copyWorkspace('rr-vary-off-');
    const board = await readFile(join(ws, 'boards', 'probe-variations.yaml'), 'utf8');
    await writeFile(
      join(ws, 'boards', 'probe-off.yaml'),
      `${board}vary:\n  time:\n    off: the probe keeps the real clock\n`,
    );
  });
  afterAll(async () => {
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  it('unknown names are exit 2 with the valid ones listed', async () => {
    const r = await runCli(['build', 'probe-off', '--runs', '2', '--no-vary', 'clock', '-w', ws]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('unknown variation "clock"');
    expect(r.stderr).toContain('time, kernel, aslr, num-cpus, fileordering');
  });

  it("a board's reason to turn one off is in the manifest, the provenance, --json, JUnit and the text", async () => {
    const args = ['build', 'probe-off', '--runs', '2', '--no-explain', '--no-vary', 'kernel', '-w', ws];
    const r = await runCli([...args, '--json', '--junit', join(ws, 'off.xml')], BOUND);
    expect(r.exitCode, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as BuildJson;
    const verdicts = Object.fromEntries((json.comparison?.artifacts ?? []).map((a) => [a.name, a.verdict]));
    expect(verdicts['time.txt']).toBe('reproducible');
    expect(verdicts['kernel.txt']).toBe('reproducible');
    expect(verdicts['umask.txt']).toBe('mismatch');
    const reason = 'turned off by the board: the probe keeps the real clock';
    expect(json.boards[0]?.vary.off).toMatchObject({
      time: reason,
      kernel: 'turned off on the command line (--no-vary)',
    });
    const dir = join(json.runDir, 'probe-off', '2');
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.variations.off.time).toBe(reason);
    const provenance = JSON.parse(await readFile(join(dir, 'provenance.json'), 'utf8'));
    expect(provenance.predicate.buildDefinition.internalParameters.variations.off.time).toBe(reason);
    expect(await readFile(join(ws, 'off.xml'), 'utf8')).toContain(`variation time off: ${reason}`);
    const plain = await runCli(args, BOUND);
    expect(plain.stdout).toContain(`probe-off: variation time off: ${reason}`);
    // The opt-in build-path line is noise on every build: shown with --verbose only.
    expect(plain.stdout).not.toContain('probe-off: variation build-path off: opt-in');
    const verbose = await runCli([...args, '--verbose'], BOUND);
    expect(verbose.stdout).toContain('probe-off: variation build-path off: opt-in');
  });
});
