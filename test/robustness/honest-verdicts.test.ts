/**
 * Verdicts that must not depend on how a board is reached, and weak verdicts that must say
 * they are weak (issue 31, items 3 and 4). Tiny boards on the cached `firmware` image, with
 * the real engine: a producer declaring `expectMismatch` gets the same verdict when it is
 * named, pulled in as a consumer's input, or falls in either shard; runs that varied nothing
 * say "nothing varied" in text, `--json`, the release manifest and its provenance.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { board, expectNoStack, tag } from './support.js';

const engine = await probeEngine();
const nix = await probeNix();
const EM = `${tag}-em`;
const CONS = `${tag}-cons`;
const SAME = `${tag}-same`;
const REASON = 'random bytes on purpose';

// biome-ignore lint/suspicious/noExplicitAny: JSON read back in tests
type Json = any;

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('robustness: honest verdicts', () => {
  let ws = '';
  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    ws = await copyWorkspace('rr-honest-');
    // Only this suite's boards, so `--all` and its shards build nothing else.
    await rm(join(ws, 'boards'), { recursive: true });
    await mkdir(join(ws, 'boards'));
    // A producer known not to be reproducible: one random artifact, one stable one.
    await board(
      ws,
      EM,
      `commands: ["head -c 16 /dev/urandom > em.bin", "echo fixed > ok.bin"]\nartifacts: [em.bin, ok.bin]\nexpectMismatch: ${REASON}\n`,
    );
    // Its consumer takes only the stable file, so the consumer itself reproduces.
    await board(
      ws,
      CONS,
      `inputs:\n  - { type: board, board: ${EM}, artifact: ok.bin, path: in/ok.bin }\ncommands: ["cp in/ok.bin cons.bin"]\nartifacts: [cons.bin]\n`,
    );
  }, 60_000);
  afterAll(async () => {
    await rm(ws, { recursive: true, force: true });
  });

  const build = async (...args: string[]) => {
    const r = await runCli(['build', ...args, '--runs', '2', '--no-explain', '--json', '-w', ws]);
    expectNoStack(r.stderr);
    return { ...r, json: r.stdout ? (JSON.parse(r.stdout) as Json) : undefined };
  };
  /** The row of BOARD/KEY (a lone board's rows are named without the board). */
  const verdictOf = (json: Json, name: string) =>
    json.comparison.artifacts.find((a: Json) => `${a.board}/${a.key}` === name);

  it('a producer declaring expectMismatch keeps it when pulled in as an input: `build CONS` exits 0 like `build EM CONS`', async () => {
    const pulled = await build(CONS);
    const named = await build(EM, CONS);
    for (const r of [pulled, named]) {
      expect(r.exitCode, r.stderr).toBe(0);
      expect(verdictOf(r.json, `${EM}/em.bin`)).toMatchObject({
        verdict: 'mismatch',
        expectedMismatch: REASON,
      });
      expect(verdictOf(r.json, `${CONS}/cons.bin`)).toMatchObject({ verdict: 'reproducible' });
      expect(r.json.comparison.okExceptExpected).toBe(true);
      expect(r.json.ok).toBe(true);
    }
  });

  it('the same verdict in every shard of --all: shard 1/2 and 2/2 both exit 0, the producer excused in each', async () => {
    for (const shard of ['1/2', '2/2']) {
      const r = await build('--all', '--shard', shard);
      expect(r.exitCode, `shard ${shard}: ${r.stderr}`).toBe(0);
      // Whichever shard holds the consumer builds the producer too; its mismatch is expected there.
      expect(verdictOf(r.json, `${EM}/em.bin`)).toMatchObject({ expectedMismatch: REASON });
    }
  });

  it('--no-vary all: "reproducible (nothing varied)" in the table, the closing line, --json (varied: []), release text, manifest and provenance', async () => {
    await board(ws, SAME, 'commands: ["echo same > out.bin"]\nartifacts: [out.bin]\n');
    const weak = await runCli(['build', SAME, '--runs', '2', '--no-vary', 'all', '-w', ws], {
      env: { NO_COLOR: '1' },
    });
    expect(weak.exitCode, weak.stderr).toBe(0);
    expect(weak.stdout).toMatch(
      new RegExp(`^${SAME}/out\\.bin\\s+reproducible \\(nothing varied\\)\\s+2/2`, 'm'),
    );
    expect(weak.stdout).toMatch(/^reproducible \(nothing varied\): 1 artifact identical across 2 inputs$/m);
    expect(weak.stderr).toMatch(/reproducible \(nothing varied\): 1 artifact identical across 2 inputs\s*$/);
    const weakJson = await build(SAME, '--no-vary', 'all');
    expect(verdictOf(weakJson.json, `${SAME}/out.bin`)).toMatchObject({
      verdict: 'reproducible',
      varied: [],
    });

    // The control: with the default variations the verdict is plain, and says what varied.
    const strong = await build(SAME);
    expect(strong.exitCode, strong.stderr).toBe(0);
    const varied = verdictOf(strong.json, `${SAME}/out.bin`).varied as string[];
    expect(varied).toEqual(expect.arrayContaining(['time', 'domain-host', 'umask']));

    const out = join(ws, 'release-unvaried');
    const rel = await runCli([
      'release',
      SAME,
      '--runs',
      '2',
      '--no-vary',
      'all',
      '--allow-dirty',
      '--out',
      out,
      '-w',
      ws,
    ]);
    expectNoStack(rel.stderr);
    expect(rel.exitCode, rel.stderr).toBe(0);
    expect(rel.stdout).toMatch(
      /^[0-9a-f]{64} {2}\S+\/out\.bin {2}\(reproduced in 2 runs, nothing varied\)$/m,
    );
    expect(rel.stdout).not.toMatch(/varied runs/);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Json;
    expect(manifest.boards[0]).toMatchObject({ board: SAME, reproducedRuns: 2, varied: [] });
    const provenance = JSON.parse(await readFile(join(out, SAME, 'provenance.json'), 'utf8')) as Json;
    expect(provenance.predicate.buildDefinition.internalParameters.variations.varied).toEqual([]);
  });
});
