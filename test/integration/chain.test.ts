/**
 * Issue 18, boards that feed boards, with the real engine and tiny boards on the `firmware`
 * image (seconds per build): a consumer of a producer whose artifact differs between runs is
 * reported as caused by that input; `release` of a consumer releases its producer too, with the
 * payload's sha256 in the consumer's provenance; `verify` rebuilds the chain (the producer once)
 * and passes, fails naming the input when the producer now builds other bytes (without rebuilding
 * the consumer), and names a payload changed in the release folder as the consumer's input.
 * Real firmware chains: test/integration/coreboot.test.ts and heads.test.ts.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

const engine = await probeEngine();
const nix = await probeNix();
const GIT = [
  '-c',
  'user.name=Chain Tester',
  '-c',
  'user.email=tester@example.org',
  '-c',
  'commit.gpgsign=false',
];
const INPUT = 'input payloads/p.bin (board prod, artifact out/payload.bin)';

// biome-ignore lint/suspicious/noExplicitAny: JSON read back in tests
type Json = any;

async function board(ws: string, name: string, yaml: string, files: Record<string, string> = {}) {
  await mkdir(join(ws, 'src', name), { recursive: true });
  for (const [f, text] of Object.entries({ README: `${name}\n`, ...files }))
    await writeFile(join(ws, 'src', name, f), text);
  await writeFile(
    join(ws, 'boards', `${name}.yaml`),
    `image: firmware\nsource: { type: local, path: src/${name} }\nsourceDateEpoch: 1700000000\n${yaml}`,
  );
}

const fromProducer = (producer: string) =>
  `inputs:\n  - { type: board, board: ${producer}, artifact: out/payload.bin, path: payloads/p.bin }\n`;
const CONSUMER = `commands: ['mkdir -p out && { printf "rom:"; cat payloads/p.bin; } > out/rom.bin']\nartifacts: [out/rom.bin]\n`;

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))(
  'boards that feed boards: culprits, release and verify (real engine, tiny boards)',
  () => {
    let tmp = '';
    let ws = '';
    let release = '';
    let key = '';
    const verify = (target: string, workspace: string, ...args: string[]) =>
      runCli(['verify', target, '-w', workspace, '--key', `${key}.pub`, ...args]);

    beforeAll(async () => {
      if (inCi) {
        requireReal(engine);
        requireReal(nix);
      }
      tmp = await mkdtemp(join(tmpdir(), 'rr-chain-'));
      ws = await copyWorkspace('rr-chain-ws-');
      await board(
        ws,
        'prod',
        "commands: ['mkdir -p out && cp payload.txt out/payload.bin']\nartifacts: [out/payload.bin]\n",
        { 'payload.txt': 'the payload\n' },
      );
      await board(ws, 'cons', fromProducer('prod') + CONSUMER);
      // A producer that stamps the host name it was built on: not reproducible on purpose.
      await board(
        ws,
        'leaky',
        "commands: ['mkdir -p out && uname -n > out/payload.bin']\nartifacts: [out/payload.bin]\n",
      );
      await board(ws, 'leakycons', fromProducer('leaky') + CONSUMER);
      await execa('git', ['init', '-q', ws]);
      await execa('git', ['-C', ws, 'add', '-A']);
      await execa('git', ['-C', ws, ...GIT, 'commit', '-q', '-m', 'workspace']);
      key = join(tmp, 'signer');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'signer', '-f', key]);
      release = join(tmp, 'release');
      const r = await runCli(['release', 'cons', '-w', ws, '--out', release, '--json']);
      expect(r.exitCode, r.stderr).toBe(0);
      const s = await runCli(['sign', release, '--key', key]);
      expect(s.exitCode, s.stderr).toBe(0);
    }, 600_000);
    afterAll(async () => {
      if (tmp) await rm(tmp, { recursive: true, force: true });
      if (ws) await rm(ws, { recursive: true, force: true });
    });

    it("a consumer's mismatch is reported as caused by its producer's artifact, which differed between the runs", async () => {
      const r = await runCli([
        'build',
        'leakycons',
        '--runs',
        '2',
        '--no-vary',
        'all',
        '--vary',
        'domain-host',
        '--json',
        '-w',
        ws,
      ]);
      expect(r.exitCode, r.stderr).toBe(1);
      const json = JSON.parse(r.stdout) as Json;
      const verdicts = Object.fromEntries(json.comparison.artifacts.map((a: Json) => [a.name, a.verdict]));
      expect(verdicts).toEqual({ 'leaky/payload.bin': 'mismatch', 'leakycons/rom.bin': 'mismatch' });
      const culprits = Object.fromEntries(json.culprits.artifacts.map((c: Json) => [c.board, c]));
      // The consumer is blamed on its input, not reported as a second unexplained mismatch…
      expect(culprits['leakycons']).toMatchObject({
        verdict: 'input',
        culprits: ['input payloads/p.bin (board leaky, artifact out/payload.bin)'],
      });
      // …and the producer's own cause is named.
      expect(culprits['leaky']).toMatchObject({ verdict: 'variation', culprits: ['domain-host'] });
      // Only the producer was rebuilt to find it.
      const search = r.stderr.split('to name the culprit')[1] ?? '';
      expect(search).toMatch(/\[leaky\] run \d\/\d started/);
      expect(search).not.toContain('[leakycons] run');
    }, 600_000);

    it("release of a consumer releases its producer too, the payload's sha256 in the consumer's provenance", async () => {
      const manifest = JSON.parse(await readFile(join(release, 'manifest.json'), 'utf8')) as Json;
      expect(manifest.boards.map((b: Json) => b.board)).toEqual(['cons', 'prod']);
      const payload = manifest.boards[1].artifacts[0];
      expect(payload.path).toBe('prod/out/payload.bin');
      const sha = (await execa('sha256sum', [join(release, payload.path)])).stdout.split(' ')[0];
      expect(payload.sha256).toBe(sha);
      const prov = JSON.parse(await readFile(join(release, 'cons/provenance.json'), 'utf8')) as Json;
      expect(prov.predicate.buildDefinition.resolvedDependencies).toContainEqual({
        name: 'input/payloads/p.bin',
        digest: { sha256: sha },
        annotations: { board: 'prod', artifact: 'out/payload.bin' },
      });
    });

    it('verify rebuilds the chain, the producer once, and passes', async () => {
      const r = await verify(release, ws);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`ok   input: ${INPUT} is prod/out/payload.bin of this release`);
      expect(r.stdout).toMatch(/^cons:\n(?: {2}ok .*\n)+ {2}reproduced rom\.bin /m);
      expect(r.stdout).toMatch(/^prod:\n(?: {2}ok .*\n)+ {2}reproduced payload\.bin /m);
      expect(r.stderr.match(/\[prod\] run 1\/1 started/g)).toHaveLength(1);
      expect(r.stderr.match(/\[cons\] run 1\/1 started/g)).toHaveLength(1);
    }, 600_000);

    it('a producer that now builds other bytes fails the verify naming the input, and its consumer is not rebuilt', async () => {
      const other = join(tmp, 'ws-other-payload');
      await cp(ws, other, { recursive: true });
      await rm(join(other, '.reprorom'), { recursive: true, force: true });
      const payload = join(other, 'src/prod/payload.txt');
      const bytes = await readFile(payload);
      bytes[0] = (bytes[0] ?? 0) ^ 0x01;
      await writeFile(payload, bytes);
      const r = await verify(release, other);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `reprorom: cons: input check failed: ${INPUT.replace(/[()]/g, '\\$&')}: the release was built with sha256 [0-9a-f]{64}, the rebuild of board prod gave [0-9a-f]{64} \\(so cons itself was not rebuilt`,
        ),
      );
      expect(r.stderr).toMatch(/prod: payload\.bin does not match \(mismatch\)/);
      expect(r.stderr).not.toMatch(/\[cons\] run 1\/1 started/);
    }, 600_000);

    it('a byte of the payload flipped in the release folder is named as the input of the consumer', async () => {
      const bad = join(tmp, 'flipped-payload');
      await cp(release, bad, { recursive: true });
      const file = join(bad, 'prod/out/payload.bin');
      const bytes = await readFile(file);
      bytes[0] = (bytes[0] ?? 0) ^ 0x01;
      await writeFile(file, bytes);
      const r = await runCli(['verify', bad, '--no-rebuild', '--key', `${key}.pub`], {
        env: { DOCKER_HOST: 'tcp://127.0.0.1:9' },
      });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(
        /integrity check failed: prod\/out\/payload\.bin has sha256 [0-9a-f]{64}, but the signed hashes\.txt says [0-9a-f]{64} \(the file was changed; it is input payloads\/p\.bin of cons\)/,
      );
    });
  },
);
