/**
 * What `verify` may claim. A release folder holding a file its signed manifest does
 * not list is refused by name (an unsigned `evil.rom` next to the real ROM must not
 * ride along under the signature), and the last line names only what was checked:
 * a Heads hashes.txt verified without --key says no signature was checked.
 * Real engine, nix and ssh-keygen: a tiny local board, released, signed and rebuilt.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Bytes } from '../../src/util/sha256.js';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { board, expectNoStack, tag } from './support.js';

const engine = await probeEngine();
const nix = await probeNix();
const ROM_BYTES = 'rom\n';

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('robustness: verify verdicts', () => {
  const name = `${tag}-rel`;
  let tmp = '';
  let ws = '';
  let signed = '';
  let pub = '';
  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    tmp = await mkdtemp(join(tmpdir(), 'rr-verify-'));
    ws = await copyWorkspace('rr-verify-ws-');
    await board(
      ws,
      name,
      `commands: ['mkdir -p out && printf "rom\\\\n" > out/bios.rom']\nartifacts: [out/bios.rom]\n`,
    );
    signed = join(tmp, 'release');
    // A copied workspace is in no git checkout: the release says so (dirty) when allowed.
    const r = await runCli(['release', name, '-w', ws, '--out', signed, '--allow-dirty']);
    expect(r.exitCode, r.stderr).toBe(0);
    const key = join(tmp, 'signer');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'signer', '-f', key]);
    pub = `${key}.pub`;
    const s = await runCli(['sign', signed, '--key', key]);
    expect(s.exitCode, s.stderr).toBe(0);
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  it.each([['evil.rom'], ['BOARD/out/evil.rom'], ['.hidden']])(
    'a signed release with an unlisted %s dropped in is NOT VERIFIED, naming the file (exit 1)',
    async (extra) => {
      const copy = await mkdtemp(join(tmp, 'extra-'));
      await cp(signed, copy, { recursive: true });
      const rel = extra.replace('BOARD', name);
      await mkdir(join(copy, rel, '..'), { recursive: true });
      await writeFile(join(copy, rel), 'malicious firmware\n');
      const r = await runCli(['verify', copy, '-w', ws, '--key', pub]);
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(
        new RegExp(
          `NOT VERIFIED: .*${rel.replace(/\./g, '\\.')} is in the release folder but no signed manifest\\.json lists it`,
        ),
      );
      expect(r.stdout).not.toMatch(/^VERIFIED/m);
      expectNoStack(r.stderr);
    },
  );

  it('the untouched signed release verifies, and its last line names the signature it checked', async () => {
    const r = await runCli(['verify', signed, '-w', ws, '--key', pub]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe(
      'VERIFIED: good signature and every artifact rebuilt bit for bit',
    );
  });

  it('verify hashes.txt --rom --board without --key ends with VERIFIED (no signature checked)', async () => {
    const hashes = join(tmp, 'heads-hashes.txt');
    await writeFile(hashes, `${sha256Bytes(ROM_BYTES)}  bios.rom\n`);
    const r = await runCli(['verify', hashes, '--rom', 'bios.rom', '--board', name, '-w', ws]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const last = r.stdout.trim().split('\n').at(-1);
    expect(last).toBe('VERIFIED (no signature checked): bios.rom rebuilt bit for bit');
    expect(r.stdout).not.toMatch(/good signature/);
  });
});
