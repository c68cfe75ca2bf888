/**
 * Rebuilders' attestations and the k-of-n threshold: three real ssh-keygen ed25519 keys,
 * three rebuilt folders (one with different bytes); no engine, no nix.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ReleaseIdentity,
  rebuildStatement,
  sha256hex,
  signStatement,
} from '../../src/attest/statement.js';
import { type AttestationInput, evaluate, parseTrust } from '../../src/attest/threshold.js';
import { type Ed25519Signer, formatEnvelope, readEd25519PrivateKey } from '../../src/release/dsse.js';
import type { ReleaseManifest } from '../../src/release/releaseManifest.js';
import { sigstoreVerifyDsse, spkiPemOfSshPub } from '../helpers/sigstore.js';

let dir = '';
const keys: Ed25519Signer[] = [];
const ids = ['alice', 'bob', 'carol'];
const romBytes = Buffer.from('rom bytes\n');

const release = (manifestSha256: string): ReleaseIdentity => ({
  manifestSha256,
  manifest: {
    schema: 'reprorom.release/v1',
    tool: { name: 'reprorom', version: '0' },
    boards: [
      {
        board: 'x230',
        image: { name: 'fw', id: `sha256:${'a'.repeat(64)}` },
        pin: { name: 'p', flake: 'f', narHash: 'sha256-x' },
        extraPins: [],
        source: { type: 'local', hash: 'h' },
        commands: [],
        sourceDateEpoch: 0,
        reproducedRuns: 2,
        hashes: 'hashes.txt',
        provenance: { path: 'provenance.json', sha256: 'b'.repeat(64) },
        artifacts: [{ path: 'x230/rom.bin', sha256: sha256hex(romBytes), size: romBytes.length }],
      },
    ],
  } as ReleaseManifest,
});
const rel = release('c'.repeat(64));
let trustText = '';

async function attestation(
  i: number,
  bytes: Buffer,
  r = rel,
  key = keys[i] as Ed25519Signer,
  id = ids[i] as string,
): Promise<AttestationInput> {
  const rebuilt = join(dir, `rebuilt-${i}-${Math.random()}`);
  await mkdir(join(rebuilt, 'x230'), { recursive: true });
  await writeFile(join(rebuilt, 'x230', 'rom.bin'), bytes);
  const s = await rebuildStatement(r, rebuilt, { id, keyid: key.keyid }, [], new Date());
  return { file: `${id}.intoto.jsonl`, bytes: Buffer.from(formatEnvelope(signStatement(s, key))) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rr-attest-'));
  for (const id of [...ids, 'mallory']) {
    const f = join(dir, id);
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', id, '-f', f]);
    const k = readEd25519PrivateKey(await readFile(f, 'utf8'), f);
    if (!k) throw new Error('no key');
    keys.push(k);
    if (id !== 'mallory') trustText += `${id} ${k.openssh} ${id}@example\n`;
  }
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('attest threshold', () => {
  it('two of three agree; the third is named as disagreeing and fails by default', async () => {
    const inputs = [
      await attestation(0, romBytes),
      await attestation(1, romBytes),
      await attestation(2, Buffer.from('other\n')),
    ];
    const r = evaluate(inputs, parseTrust(trustText), rel, 2);
    expect(r.roms[0]?.agreeing).toEqual(['alice', 'bob']);
    expect(r.roms[0]?.disagreeing.map((d) => d.builderId)).toEqual(['carol']);
    expect(r.ok).toBe(false);
    expect(evaluate(inputs, parseTrust(trustText), rel, 2, { allowDisagreement: true }).ok).toBe(true);
    expect(evaluate(inputs, parseTrust(trustText), rel, 3, { allowDisagreement: true }).ok).toBe(false);
  });

  it('untrusted key, other release, duplicate: each refused with its reason', async () => {
    const inputs = [
      await attestation(0, romBytes),
      await attestation(3, romBytes, rel, keys[3], 'bob'),
      await attestation(2, romBytes, release('d'.repeat(64))),
      await attestation(0, romBytes),
    ];
    const r = evaluate(inputs, parseTrust(trustText), rel, 2);
    expect(r.ok).toBe(false);
    expect(r.roms[0]?.agreeing).toEqual(['alice']);
    expect(r.attestations[1]?.reason).toMatch(/untrusted/);
    expect(r.attestations[2]?.reason).toMatch(/another release/);
    expect(r.attestations[3]?.reason).toMatch(/duplicate/);
  });

  it('hostile envelopes never agree', async () => {
    const good = await attestation(0, romBytes);
    const env = JSON.parse(good.bytes.toString());
    const variants: Buffer[] = [
      Buffer.from(JSON.stringify({ ...env, payloadType: 'text/plain' })),
      Buffer.from([0xff, 0xfe, 0x00]),
      Buffer.alloc(2 * 1024 * 1024, 0x20),
      Buffer.from('{'),
    ];
    const r = evaluate(
      variants.map((bytes, i) => ({ file: `h${i}`, bytes })),
      parseTrust(trustText),
      rel,
      1,
    );
    expect(r.ok).toBe(false);
    expect(r.attestations.every((a) => a.reason)).toBe(true);
  });

  it("an attestation verifies with sigstore's DSSE verifier, and not with another key", async () => {
    const a = await attestation(1, romBytes);
    const env = JSON.parse(a.bytes.toString());
    sigstoreVerifyDsse(env, await spkiPemOfSshPub(join(dir, 'bob.pub')));
    const wrong = await spkiPemOfSshPub(join(dir, 'alice.pub'));
    expect(() => sigstoreVerifyDsse(env, wrong)).toThrow();
  });
});
