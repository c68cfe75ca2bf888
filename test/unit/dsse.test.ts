/**
 * DSSE envelopes signed with an OpenSSH ed25519 key (made by the real ssh-keygen), checked
 * by an implementation that is not ours: sigstore's verifier (@sigstore/verify), given a
 * sigstore bundle that carries the envelope and a public-key hint, with transparency-log,
 * certificate and timestamp checks off (no network). A flipped byte in the payload or the
 * signature fails there and in ours.
 */
import { readFileSync as readFileBytes } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Envelope,
  ed25519PublicKeys,
  formatEnvelope,
  INTOTO_PAYLOAD_TYPE,
  preAuthEncoding,
  readEd25519PrivateKey,
  signEnvelope,
  verifyEnvelope,
} from '../../src/release/dsse.js';
import { UsageError } from '../../src/util/errors.js';
import { sigstoreVerifyDsse, spkiPemOfSshPub } from '../helpers/sigstore.js';

let dir = '';
let keyFile = '';
let pubText = '';

async function newKey(name: string, type = 'ed25519', passphrase = ''): Promise<string> {
  const key = join(dir, name);
  await execa('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', key]);
  return key;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rr-dsse-'));
  keyFile = await newKey('signer');
  pubText = await readFile(`${keyFile}.pub`, 'utf8');
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const statement = Buffer.from(
  `${JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'out/bios.bin', digest: { sha256: 'a'.repeat(64) } }] })}\n`,
);

const sigstoreVerify = sigstoreVerifyDsse;
const pemOf = spkiPemOfSshPub;

const flip = (b64: string, at: number): string => {
  const bytes = Buffer.from(b64, 'base64');
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return bytes.toString('base64');
};

describe('DSSE envelopes with an OpenSSH ed25519 key', () => {
  it('reads the key as ssh-keygen made it: same public key and the fingerprint ssh-keygen -l prints', async () => {
    const signer = readEd25519PrivateKey(await readFile(keyFile, 'utf8'), keyFile);
    expect(signer).toBeDefined();
    expect(pubText.startsWith(`${signer?.openssh} `)).toBe(true);
    const fp = (await execa('ssh-keygen', ['-l', '-f', `${keyFile}.pub`])).stdout.split(/\s+/)[1];
    expect(signer?.keyid).toBe(fp);
    expect(ed25519PublicKeys(pubText).map((k) => k.keyid)).toEqual([fp]);
    // An allowed_signers line holds the key after principals and options.
    expect(ed25519PublicKeys(`me@x namespaces="reprorom" ${pubText}`).map((k) => k.keyid)).toEqual([fp]);
  });

  it('encodes PAE as the DSSE spec says', () => {
    expect(preAuthEncoding('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  it('signs an envelope that sigstore verifies with the public key alone, and ours too', async () => {
    const signer = readEd25519PrivateKey(await readFile(keyFile, 'utf8'), keyFile)!;
    const env = signEnvelope(statement, signer);
    expect(env.payloadType).toBe(INTOTO_PAYLOAD_TYPE);
    expect(Buffer.from(env.payload, 'base64').equals(statement)).toBe(true);
    const pem = await pemOf(`${keyFile}.pub`);
    expect(() => sigstoreVerify(env, pem)).not.toThrow();
    const ours = verifyEnvelope(formatEnvelope(env), ed25519PublicKeys(pubText));
    expect(ours.ok && ours.payload.equals(statement)).toBe(true);
  });

  it.each([
    ['payload', (e: Envelope): Envelope => ({ ...e, payload: flip(e.payload, 10) })],
    [
      'signature',
      (e: Envelope): Envelope => ({
        ...e,
        signatures: e.signatures.map((s) => ({ ...s, sig: flip(s.sig, 5) })),
      }),
    ],
  ])('a flipped byte in the %s fails in sigstore and in ours', async (_what, damage) => {
    const signer = readEd25519PrivateKey(await readFile(keyFile, 'utf8'), keyFile)!;
    const bad = damage(signEnvelope(statement, signer));
    const pem = await pemOf(`${keyFile}.pub`);
    expect(() => sigstoreVerify(bad, pem)).toThrow(/signature/i);
    const ours = verifyEnvelope(formatEnvelope(bad), ed25519PublicKeys(pubText));
    expect(ours.ok).toBe(false);
  });

  it('another key does not verify it, there or here', async () => {
    const signer = readEd25519PrivateKey(await readFile(keyFile, 'utf8'), keyFile)!;
    const other = await newKey('other');
    const env = signEnvelope(statement, signer);
    const otherPem = await pemOf(`${other}.pub`);
    expect(() => sigstoreVerify(env, otherPem)).toThrow(/signature/i);
    const ours = verifyEnvelope(
      formatEnvelope(env),
      ed25519PublicKeys(await readFile(`${other}.pub`, 'utf8')),
    );
    expect(ours).toMatchObject({ ok: false, message: expect.stringMatching(/no signature .* verifies/) });
  });

  it('an envelope with a foreign signature before the good one verifies, and says 2 were present and the 2nd verified', async () => {
    const signer = readEd25519PrivateKey(await readFile(keyFile, 'utf8'), keyFile)!;
    const other = await newKey('foreign');
    const foreign = signEnvelope(statement, readEd25519PrivateKey(await readFile(other, 'utf8'), other)!);
    const ours = signEnvelope(statement, signer);
    const both: Envelope = { ...ours, signatures: [...foreign.signatures, ...ours.signatures] };
    const r = verifyEnvelope(formatEnvelope(both), ed25519PublicKeys(pubText));
    expect(r).toMatchObject({ ok: true, present: 2, verified: 2 });
    // The note counts signatures as present in the envelope, and the good one alone does not verify with the foreign key.
    const foreignOnly = verifyEnvelope(
      formatEnvelope(both),
      ed25519PublicKeys(await readFile(`${other}.pub`, 'utf8')),
    );
    expect(foreignOnly).toMatchObject({ ok: true, present: 2, verified: 1 });
  });

  it('refuses a passphrase-protected key with a reason, and passes over non-ed25519 keys', async () => {
    const locked = await newKey('locked', 'ed25519', 'secret');
    expect(() => readEd25519PrivateKey(readFileBytes(locked, 'utf8'), locked)).toThrow(UsageError);
    expect(() => readEd25519PrivateKey(readFileBytes(locked, 'utf8'), locked)).toThrow(/passphrase/);
    const ecdsa = await newKey('ec', 'ecdsa');
    expect(readEd25519PrivateKey(readFileBytes(ecdsa, 'utf8'), ecdsa)).toBeUndefined();
  });

  it('refuses an envelope of another payload type', async () => {
    const signer = readEd25519PrivateKey(await readFile(keyFile, 'utf8'), keyFile)!;
    const env = signEnvelope(statement, signer, 'text/plain');
    expect(verifyEnvelope(formatEnvelope(env), ed25519PublicKeys(pubText))).toMatchObject({
      ok: false,
      message: expect.stringContaining('payloadType'),
    });
  });
});
