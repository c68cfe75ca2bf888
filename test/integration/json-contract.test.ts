/**
 * The `--json` outputs of the commands that build, with a real engine and nix: build (ok, a
 * mismatch, a failed run), doctor, image build, pin verify and lock, boot, release (written and
 * refused), verify. Each validates against its schema in schemas/output/, and says `ok` and
 * `error` exactly as the exit code does (test/helpers/jsonContract.ts). Tiny local boards
 * in the cached `firmware` image: seconds per build.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonKind } from '../../src/contracts/json.js';
import { runCli } from '../helpers/cli.js';
import { expectJsonOutput, schemaErrors } from '../helpers/jsonContract.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { board, tag } from '../robustness/support.js';

const engine = await probeEngine();
const nix = await probeNix();

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))(
  '--json outputs of the commands that build',
  () => {
    let ws = '';
    const same = `${tag}-json-same`;
    const differs = `${tag}-json-differs`;
    const fails = `${tag}-json-fails`;
    const noBoot = `${tag}-json-noboot`;
    const boots = `${tag}-json-boots`;

    async function expectOutput(kind: JsonKind, args: string[], exitCode: number) {
      // sign takes no workspace.
      const workspace = args[0] === 'sign' ? [] : ['-w', ws];
      const r = await runCli([...args, ...workspace, '--json'], { timeoutMs: 540_000 });
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr.slice(-3000)}`).toBe(exitCode);
      return expectJsonOutput(kind, r);
    }

    beforeAll(async () => {
      if (inCi) {
        requireReal(engine);
        requireReal(nix);
      }
      ws = await copyWorkspace('rr-json-');
      await board(
        ws,
        same,
        'commands: ["mkdir -p out", "echo same > out/rom.bin"]\nartifacts: [out/rom.bin]\n',
      );
      await board(
        ws,
        differs,
        'commands: ["mkdir -p out", "umask > out/rom.bin"]\nartifacts: [out/rom.bin]\n',
      );
      await board(
        ws,
        fails,
        'commands: ["echo \'main.c:1:1: error: no\' >&2", "exit 2"]\nartifacts: [README]\n',
      );
      // A ROM that prints nothing: its boot check fails (the boot result's ok: false).
      await board(
        ws,
        noBoot,
        [
          'commands: ["mkdir -p out", "head -c 65536 /dev/zero > out/bios.bin"]',
          'artifacts: [out/bios.bin]',
          'boot: { machine: pc, arch: x86_64, artifact: out/bios.bin, expect: "never printed", timeout: 2 }',
          '',
        ].join('\n'),
      );
      // A 64 KiB ROM whose reset vector writes "OK" to the debug console (port 0x402), then halts:
      // mov dx,0x402; mov al,'O'; out dx,al; mov al,'K'; out dx,al; hlt; jmp $-1.
      await board(
        ws,
        boots,
        [
          'commands:',
          '  - mkdir -p out',
          '  - head -c 65520 /dev/zero > out/bios.bin',
          '  - \'printf "\\272\\002\\004\\260\\117\\356\\260\\113\\356\\364\\353\\375\\0\\0\\0\\0" >> out/bios.bin\'',
          'artifacts: [out/bios.bin]',
          'boot: { machine: pc, arch: x86_64, artifact: out/bios.bin, channel: debugcon, expect: "OK", timeout: 20 }',
          '',
        ].join('\n'),
      );
    }, 60_000);
    afterAll(async () => {
      await rm(ws, { recursive: true, force: true });
    });

    it('doctor', async () => {
      const r = await expectOutput('doctor', ['doctor'], 0);
      expect(r['checks']).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'docker engine' })]),
      );
    }, 120_000);

    it('doctor, engine unreachable: ok false, error with exit code 3', async () => {
      const r = await runCli(['doctor', '--json'], { env: { DOCKER_HOST: 'tcp://127.0.0.1:9' } });
      expect(r.exitCode).toBe(3);
      expect(expectJsonOutput('doctor', r)['error']).toMatchObject({ code: 'environment', exitCode: 3 });
    }, 120_000);

    it('image build (the cached image), pin verify / lock / fetch of the offline set', async () => {
      const image = await expectOutput('image-build', ['image', 'build', 'firmware', '--no-load'], 0);
      expect(image['id']).toMatch(/^sha256:[0-9a-f]{64}$/);
      await expectOutput('pin-verify', ['pin', 'verify', 'offline'], 0);
      const lock = await expectOutput('pin-lock', ['pin', 'lock', 'offline'], 0);
      expect(lock['changed']).toBe(false);
      const fetched = await expectOutput('pin-fetch', ['pin', 'fetch', 'offline'], 0);
      expect(fetched['debs']).toBeGreaterThan(0);
    }, 600_000);

    it('build: reproducible (and its manifest.json and provenance validate against their schemas)', async () => {
      const r = (await expectOutput('build', ['build', same, '--runs', '2'], 0)) as unknown as {
        boards: Array<{ runs: Array<{ dir: string }> }>;
      };
      for (const run of r.boards[0]?.runs ?? []) {
        const manifest = JSON.parse(await readFile(join(run.dir, 'manifest.json'), 'utf8')) as unknown;
        expect(schemaErrors('manifest.schema.json', manifest)).toEqual([]);
        const provenance = JSON.parse(await readFile(join(run.dir, 'provenance.json'), 'utf8')) as unknown;
        expect(schemaErrors('provenance.schema.json', provenance)).toEqual([]);
      }
    }, 600_000);

    it('build: a mismatch with its culprit (exit 1) and a failed run (exit 4)', async () => {
      // With the culprit search (its result is part of the output too).
      const mismatch = await expectOutput('build', ['build', differs, '--runs', '2'], 1);
      expect(mismatch['error']).toMatchObject({ code: 'mismatch' });
      expect(mismatch['culprits']).toMatchObject({
        artifacts: [expect.objectContaining({ verdict: 'variation', culprits: ['umask'] })],
      });
      const failed = await expectOutput('build', ['build', fails], 4);
      expect(failed['error']).toMatchObject({ code: 'build-failed', exitCode: 4 });
    }, 600_000);

    it('boot: a board whose boot check fails (exit 4), one without a boot check (exit 2), one that boots (exit 0)', async () => {
      await runCli(['build', noBoot, '-w', ws], { timeoutMs: 540_000 });
      const failed = await expectOutput('boot', ['boot', noBoot], 4);
      expect(failed['boots']).toHaveLength(1);
      await expectOutput('boot', ['boot', same], 2);
      await runCli(['build', boots, '-w', ws], { timeoutMs: 540_000 });
      const booted = await expectOutput('boot', ['boot', boots], 0);
      expect(booted['boots']).toEqual([expect.objectContaining({ ok: true, matched: 'OK' })]);
    }, 600_000);

    it('release: written (its manifest validates), refused when not reproducible; sign and verify it, then a tampered copy', async () => {
      const out = join(ws, 'release');
      // A copied workspace is in no git checkout: allowed, and marked dirty in the provenance.
      const r = await expectOutput('release-result', ['release', same, '--out', out, '--allow-dirty'], 0);
      const manifest = JSON.parse(await readFile(String(r['manifest']), 'utf8')) as unknown;
      expect(schemaErrors('release-manifest.schema.json', manifest)).toEqual([]);
      const refused = await expectOutput(
        'release-result',
        ['release', differs, '--out', join(ws, 'r2'), '--allow-dirty'],
        1,
      );
      expect(refused).toMatchObject({ out: null, notReproducible: [expect.stringContaining('rom.bin')] });
      const key = join(ws, 'id_ed25519');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'json', '-f', key]);
      await expectOutput('sign', ['sign', out, '--key', key], 0);
      await expectOutput('verify', ['verify', out, '--key', `${key}.pub`], 0);
      const checked = await expectOutput('verify', ['verify', out, '--no-rebuild', '--key', `${key}.pub`], 0);
      expect(checked).toMatchObject({ ok: true, rebuilt: false });
      // A flipped artifact: verify prints its result with ok false and exits 1.
      const rom = (r['artifacts'] as Array<{ path: string }>)[0]?.path ?? '';
      await writeFile(join(out, rom), 'tampered\n');
      const bad = await expectOutput('verify', ['verify', out, '--key', `${key}.pub`], 1);
      expect(bad['error']).toMatchObject({ code: 'mismatch', exitCode: 1 });
    }, 900_000);
  },
);
