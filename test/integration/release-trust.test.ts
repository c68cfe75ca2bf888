/**
 * Issue 20 (1-3): a release whose provenance points at real things, signed in a DSSE
 * envelope that another implementation verifies, and checked without a rebuild.
 * A tiny local board in a git checkout: released clean (the provenance names
 * `git rev-parse HEAD`), refused when dirty, marked when forced; signed with an OpenSSH
 * ed25519 key; the envelope verified by sigstore's verifier; `verify --no-rebuild` with
 * DOCKER_HOST pointing nowhere and no workspace, on the release, a ROM, and damaged copies.
 * Real engine and nix to build; under CI=true a missing one fails, never skips.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { type DsseEnvelope, sigstoreVerifyDsse, spkiPemOfSshPub } from '../helpers/sigstore.js';
import { copyWorkspace } from '../helpers/workspace.js';

const engine = await probeEngine();
const nix = await probeNix();
const BOARD = `trust${process.pid.toString(36)}`;
const ROM = `${BOARD}/out/bios.rom`;
/** Nothing answers there: a check that needed the engine would fail. */
const NO_ENGINE = { DOCKER_HOST: 'tcp://127.0.0.1:9' };
const GIT = [
  '-c',
  'user.name=Release Tester',
  '-c',
  'user.email=tester@example.org',
  '-c',
  'commit.gpgsign=false',
];

// biome-ignore lint/suspicious/noExplicitAny: provenance JSON read back in tests
type Json = any;

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))(
  'release provenance, DSSE envelope, verify --no-rebuild (real engine and nix)',
  () => {
    let tmp = '';
    let ws = '';
    let clean = '';
    let head = '';
    let key = '';
    const noRebuild = (target: string, ...args: string[]) =>
      runCli(['verify', target, '--no-rebuild', '-w', join(tmp, 'no-workspace'), ...args], {
        env: NO_ENGINE,
      });
    const copyOf = async (name: string) => {
      const dst = join(tmp, name);
      await cp(clean, dst, { recursive: true });
      return dst;
    };
    const flipByte = async (file: string, at = 0) => {
      const b = await readFile(file);
      b[at] = (b[at] ?? 0) ^ 0x01;
      await writeFile(file, b);
    };
    const depsOf = (prov: Json) =>
      Object.fromEntries(prov.predicate.buildDefinition.resolvedDependencies.map((d: Json) => [d.name, d]));

    beforeAll(async () => {
      if (inCi) {
        requireReal(engine);
        requireReal(nix);
      }
      tmp = await mkdtemp(join(tmpdir(), 'rr-trust-'));
      ws = await copyWorkspace('rr-trust-ws-');
      await mkdir(join(ws, 'src', BOARD), { recursive: true });
      await writeFile(join(ws, 'src', BOARD, 'README'), 'x\n');
      await writeFile(
        join(ws, 'boards', `${BOARD}.yaml`),
        `image: firmware\nsource: { type: local, path: src/${BOARD} }\ncommands: ['mkdir -p out && printf "rom\\\\n" > out/bios.rom']\nartifacts: [out/bios.rom]\n`,
      );
      await execa('git', ['init', '-q', ws]);
      await execa('git', ['-C', ws, 'add', '-A']);
      await execa('git', ['-C', ws, ...GIT, 'commit', '-q', '-m', 'workspace']);
      head = (await execa('git', ['-C', ws, 'rev-parse', 'HEAD'])).stdout.trim();
      clean = join(tmp, 'clean');
      const r = await runCli(['release', BOARD, '-w', ws, '--out', clean]);
      expect(r.exitCode, r.stderr).toBe(0);
      key = join(tmp, 'signer');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'signer', '-f', key]);
      const s = await runCli(['sign', clean, '--key', key]);
      expect(s.exitCode, s.stderr).toBe(0);
    }, 600_000);
    afterAll(async () => {
      if (tmp) await rm(tmp, { recursive: true, force: true });
      if (ws) await rm(ws, { recursive: true, force: true });
    });

    it('a clean checkout: the provenance names `git rev-parse HEAD`, the folder, and clean', async () => {
      const prov = JSON.parse(await readFile(join(clean, BOARD, 'provenance.json'), 'utf8'));
      const deps = depsOf(prov);
      expect(deps['source/workspace']).toEqual({
        name: 'source/workspace',
        digest: { gitCommit: head },
        annotations: { path: `src/${BOARD}`, dirty: 'false' },
      });
      expect(deps['source'].digest).toEqual({ reproromTreeSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(deps['source'].annotations).toEqual({ dirty: 'false' });
      expect(prov.predicate.buildDefinition.buildType).toBe(
        'https://github.com/reprorom/reprorom/blob/main/docs/buildtypes/board-v1.md',
      );
      expect(prov.predicate.runDetails.builder.id).toMatch(/^https:\/\/github\.com\/reprorom\/reprorom@v\d/);
      expect(deps['pin/offline'].digest.nixNarSha256).toMatch(/^[0-9a-f]{64}$/);
      const manifest = JSON.parse(await readFile(join(clean, 'manifest.json'), 'utf8'));
      expect(manifest.boards[0].source).toMatchObject({ type: 'local', commit: head, dirty: false });
    });

    it('a dirty checkout is refused (exit 2, naming the change, nothing written), then marked with --allow-dirty', async () => {
      await writeFile(join(ws, 'src', BOARD, 'README'), 'changed\n');
      try {
        const out = join(tmp, 'dirty');
        const r = await runCli(['release', BOARD, '-w', ws, '--out', out]);
        expect(r.exitCode, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/refusing to release a dirty source: .*differs from commit .*README/);
        expect(r.stderr).toMatch(/--allow-dirty/);
        expect(existsSync(out)).toBe(false);
        const forced = await runCli(['release', BOARD, '-w', ws, '--out', out, '--allow-dirty']);
        expect(forced.exitCode, forced.stderr).toBe(0);
        const prov = JSON.parse(await readFile(join(out, BOARD, 'provenance.json'), 'utf8'));
        const deps = depsOf(prov);
        expect(deps['source/workspace']).toMatchObject({
          digest: { gitCommit: head },
          annotations: { dirty: 'true' },
        });
        expect(deps['source'].annotations).toEqual({ dirty: 'true' });
        const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
        expect(manifest.boards[0].source).toMatchObject({ commit: head, dirty: true });
      } finally {
        await writeFile(join(ws, 'src', BOARD, 'README'), 'x\n');
      }
    });

    it("the release's DSSE envelope verifies with sigstore's verifier and carries provenance.json exactly", async () => {
      const text = await readFile(join(clean, BOARD, 'provenance.intoto.jsonl'), 'utf8');
      const envelope = JSON.parse(text) as DsseEnvelope;
      expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
      expect(
        Buffer.from(envelope.payload, 'base64').equals(await readFile(join(clean, BOARD, 'provenance.json'))),
      ).toBe(true);
      const pem = await spkiPemOfSshPub(`${key}.pub`);
      expect(() => sigstoreVerifyDsse(envelope, pem)).not.toThrow();
      const payload = Buffer.from(envelope.payload, 'base64');
      payload[20] = (payload[20] ?? 0) ^ 0x01;
      expect(() => sigstoreVerifyDsse({ ...envelope, payload: payload.toString('base64') }, pem)).toThrow(
        /signature/i,
      );
    });

    it('verify --no-rebuild accepts the untouched release with no engine and no workspace', async () => {
      const r = await noRebuild(clean, '--key', `${key}.pub`, '--json');
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      const json = JSON.parse(r.stdout);
      expect(json).toMatchObject({ ok: true, rebuilt: false });
      // manifest, hashes, the board's hashes and provenance (detached) and the envelope.
      const files = json.signature.files.map((f: Json) => `${f.signature.slice(clean.length + 1)} ${f.ok}`);
      expect(files).toEqual([
        'manifest.json.sig true',
        'hashes.txt.sig true',
        `${BOARD}/hashes.txt.sig true`,
        `${BOARD}/provenance.json.sig true`,
        `${BOARD}/provenance.intoto.jsonl true`,
      ]);
      const text = await noRebuild(clean, '--key', `${key}.pub`);
      expect(text.stdout.trim().split('\n').at(-1)).toBe(
        'VERIFIED: good signature and every file matches the signed hashes (nothing was rebuilt)',
      );
    });

    it('verify --no-rebuild checks a downloaded ROM against the signed hashes', async () => {
      const rom = join(tmp, 'bios.rom');
      await cp(join(clean, ROM), rom);
      const good = await noRebuild(clean, '--key', `${key}.pub`, '--rom', rom);
      expect(good.exitCode, good.stdout + good.stderr).toBe(0);
      expect(good.stdout).toContain(`as the signed hashes.txt lists for ${ROM}`);
      await flipByte(rom);
      const bad = await noRebuild(clean, '--key', `${key}.pub`, '--rom', rom);
      expect(bad.exitCode, bad.stdout).toBe(1);
      expect(bad.stdout).toMatch(
        /NOT VERIFIED: ROM check failed: bios\.rom has sha256 [0-9a-f]{64}, but the signed hashes\.txt lists/,
      );
    });

    it.each([
      [
        'a flipped byte in the ROM',
        ROM,
        /integrity check failed: .*bios\.rom has sha256 .* \(the file was changed\)/,
      ],
      ['a flipped byte in the provenance', `${BOARD}/provenance.json`, /bad signature: .*provenance\.json/],
      ['a flipped byte in the envelope', `${BOARD}/provenance.intoto.jsonl`, /provenance\.intoto\.jsonl/],
    ])('verify --no-rebuild refuses %s (exit 1)', async (what, file, message) => {
      const copy = await copyOf(what.replace(/\W+/g, '-'));
      // In the envelope, flip a byte inside the base64 payload (past `{"payloadType":"…","payload":"`).
      const bytes = await readFile(join(copy, file));
      const at = file.endsWith('.jsonl') ? bytes.indexOf('"payload":"') + 20 : Math.min(10, bytes.length - 1);
      await flipByte(join(copy, file), at);
      const r = await noRebuild(copy, '--key', `${key}.pub`);
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(message);
      expect(r.stdout).not.toMatch(/^VERIFIED/m);
    });

    it('verify --no-rebuild refuses a swapped signature and an envelope by another key (exit 1)', async () => {
      const swapped = await copyOf('swapped');
      await cp(join(swapped, BOARD, 'hashes.txt.sig'), join(swapped, 'hashes.txt.sig'));
      const r = await noRebuild(swapped, '--key', `${key}.pub`);
      expect(r.exitCode, r.stdout).toBe(1);
      expect(r.stdout).toMatch(
        /NOT VERIFIED: signature check failed: bad signature: .*hashes\.txt does not match/,
      );
      const other = join(tmp, 'other');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'other', '-f', other]);
      const resigned = await copyOf('resigned-envelope');
      const s = await runCli(['sign', resigned, '--key', other]);
      expect(s.exitCode, s.stderr).toBe(0);
      // Detached signatures by the right key, the envelope by another.
      for (const f of [
        'manifest.json.sig',
        'hashes.txt.sig',
        `${BOARD}/hashes.txt.sig`,
        `${BOARD}/provenance.json.sig`,
      ])
        await cp(join(clean, f), join(resigned, f));
      const e = await noRebuild(resigned, '--key', `${key}.pub`);
      expect(e.exitCode, e.stdout).toBe(1);
      expect(e.stdout).toMatch(
        /bad DSSE envelope .*provenance\.intoto\.jsonl: no signature in the envelope verifies/,
      );
    });
  },
);
