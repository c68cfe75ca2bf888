/**
 * Issue 28 acceptance: one release, three independent rebuilders simulated by three
 * ed25519 keys and three workspaces (the third builds with a changed input, so its ROM
 * differs). Each rebuilds with `reprorom release` in its own workspace and signs with
 * `reprorom attest`; then `verify --attestations --trust --threshold --no-rebuild` counts
 * them with DOCKER_HOST pointing nowhere and a PATH without nix.
 * Real engine and nix to build; under CI=true a missing one fails, never skips.
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
const BOARD = `rebuild${process.pid.toString(36)}`;
const ROM = `${BOARD}/out/bios.rom`;
const ids = ['alice', 'bob', 'carol'] as const;

// biome-ignore lint/suspicious/noExplicitAny: --json output read back in tests
type Json = any;

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))(
  'rebuilders: k of n trusted attestations (real builds; verify without engine or nix)',
  () => {
    let tmp = '';
    const workspaces: string[] = [];
    let release = '';
    let trust = '';
    let atts = '';
    /** No engine and no nix: counting attestations must need neither. */
    let bare: Record<string, string> = {};
    const verify = (...args: string[]) =>
      runCli(['verify', release, '--no-rebuild', '--trust', trust, ...args], { env: bare });

    async function workspace(name: string, rom: string): Promise<string> {
      const ws = await copyWorkspace(`rr-${name}-`);
      workspaces.push(ws);
      await mkdir(join(ws, 'src', BOARD), { recursive: true });
      await writeFile(join(ws, 'src', BOARD, 'README'), 'x\n');
      await writeFile(
        join(ws, 'boards', `${BOARD}.yaml`),
        `image: firmware\nsource: { type: local, path: src/${BOARD} }\ncommands: ['mkdir -p out && printf "${rom}\\\\n" > out/bios.rom']\nartifacts: [out/bios.rom]\n`,
      );
      return ws;
    }

    async function attest(who: string, rebuilt: string, out: string, key = who, rel = release) {
      const r = await runCli([
        'attest',
        rel,
        '--rebuilt',
        rebuilt,
        '--key',
        join(tmp, key),
        '--builder-id',
        who,
        '--out',
        out,
      ]);
      expect(r.exitCode, r.stderr).toBe(0);
    }

    beforeAll(async () => {
      if (inCi) {
        requireReal(engine);
        requireReal(nix);
      }
      tmp = await mkdtemp(join(tmpdir(), 'rr-rebuilders-'));
      await mkdir(join(tmp, 'empty-path'));
      bare = { DOCKER_HOST: 'unix:///nonexistent', PATH: join(tmp, 'empty-path') };
      release = join(tmp, 'release');
      const pub = await runCli([
        'release',
        BOARD,
        '-w',
        await workspace('publisher', 'rom'),
        '--out',
        release,
        '--allow-dirty',
      ]);
      expect(pub.exitCode, pub.stderr).toBe(0);
      atts = join(tmp, 'attestations');
      await mkdir(atts);
      for (const id of [...ids, 'mallory'])
        await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', id, '-f', join(tmp, id)]);
      trust = join(tmp, 'rebuilders.trust');
      let text = '# builder id, then its key\n';
      for (const id of ids) text += `${id} ${(await readFile(join(tmp, `${id}.pub`), 'utf8')).trim()}\n`;
      await writeFile(trust, text);
      // Each rebuilder rebuilds in its own workspace; carol's input is changed.
      for (const id of ids) {
        const ws = await workspace(id, id === 'carol' ? 'changed rom' : 'rom');
        const rebuilt = join(tmp, `rebuilt-${id}`);
        const r = await runCli(['release', BOARD, '-w', ws, '--out', rebuilt, '--allow-dirty']);
        expect(r.exitCode, r.stderr).toBe(0);
        await attest(id, rebuilt, join(atts, `${id}.intoto.jsonl`));
      }
    }, 900_000);
    afterAll(async () => {
      if (tmp) await rm(tmp, { recursive: true, force: true });
      for (const ws of workspaces) await rm(ws, { recursive: true, force: true });
    });

    it('--threshold 2: alice and bob agree, carol is named as disagreeing and fails the verdict by default', async () => {
      const r = await verify('--attestations', atts, '--threshold', '2');
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stdout).toContain(`NOT ACCEPTED ${ROM}: 2 of 3 trusted rebuilders agree (alice, bob)`);
      expect(r.stdout).toMatch(/DISAGREES: carol attests sha256 [0-9a-f]{64}/);
      expect(r.stderr).toMatch(/reprorom: .*carol attest other bytes/);
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/docker|nix/i);
      const relaxed = await verify('--attestations', atts, '--threshold', '2', '--allow-disagreement');
      expect(relaxed.exitCode, relaxed.stderr).toBe(0);
      expect(relaxed.stdout).toContain(`accepted ${ROM}: 2 of 3 trusted rebuilders agree (alice, bob)`);
      // Relaxed, never silent: carol is still named.
      expect(relaxed.stdout).toMatch(/DISAGREES: carol/);
    });

    it('--threshold 3 fails', async () => {
      const r = await verify('--attestations', atts, '--threshold', '3', '--allow-disagreement');
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/2 of the 3 trusted rebuilders needed agree/);
    });

    it('re-signed by an untrusted key, for another release, and a duplicate: each refused with its reason (--json)', async () => {
      const dir = join(tmp, 'hostile');
      await mkdir(dir);
      await cp(join(atts, 'alice.intoto.jsonl'), join(dir, 'alice.intoto.jsonl'));
      await cp(join(atts, 'alice.intoto.jsonl'), join(dir, 'zz-alice-again.intoto.jsonl'));
      // mallory re-signs bob's rebuild under bob's name.
      await attest('bob', join(tmp, 'rebuilt-bob'), join(dir, 'bob-by-mallory.intoto.jsonl'), 'mallory');
      // bob attests another release (its manifest differs by one field).
      const other = join(tmp, 'other-release');
      await cp(release, other, { recursive: true });
      const m = JSON.parse(await readFile(join(other, 'manifest.json'), 'utf8'));
      m.tool.version = `${m.tool.version}-other`;
      await writeFile(join(other, 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`);
      await attest('bob', join(tmp, 'rebuilt-bob'), join(dir, 'bob-other.intoto.jsonl'), 'bob', other);
      const r = await verify('--attestations', dir, '--threshold', '2', '--json');
      expect(r.exitCode, r.stderr).toBe(1);
      const j: Json = JSON.parse(r.stdout);
      expect(j.ok).toBe(false);
      expect(j.attestations.roms).toEqual([
        expect.objectContaining({ rom: ROM, accepted: false, agreeing: ['alice'], disagreeing: [] }),
      ]);
      const reason = (name: string) =>
        j.attestations.attestations.find((a: Json) => a.file.endsWith(`/${name}`))?.reason;
      expect(reason('alice.intoto.jsonl')).toBeNull();
      expect(reason('zz-alice-again.intoto.jsonl')).toMatch(/^duplicate: builder alice is already counted/);
      expect(reason('bob-by-mallory.intoto.jsonl')).toMatch(/^untrusted or unsigned/);
      expect(reason('bob-other.intoto.jsonl')).toMatch(/another release/);
    });
  },
);
