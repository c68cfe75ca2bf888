/**
 * DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1) around a
 * release's provenance statements, signed with the release's OpenSSH ed25519 key.
 *
 * `ssh-keygen -Y sign` cannot make one (it signs an SSHSIG wrapper, not the DSSE
 * pre-authentication encoding), so the key is read here: an unencrypted OpenSSH
 * private key file holds the ed25519 seed in the clear, and node:crypto signs. Other
 * tools verify the envelope with nothing but the public key (test/integration
 * dsse-interop.test.ts uses sigstore's verifier).
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { UsageError } from '../util/errors.js';

export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** Beside each board's provenance.json, in the file-name convention of SLSA's generators. */
export const ENVELOPE_SUFFIX = '.intoto.jsonl';

export interface Envelope {
  payloadType: string;
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/** `BOARD/provenance.json` → `BOARD/provenance.intoto.jsonl`. */
export function envelopePath(provenancePath: string): string {
  return `${provenancePath.replace(/\.json$/, '')}${ENVELOPE_SUFFIX}`;
}

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body (lengths in bytes, decimal). */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ]);
}

export interface Ed25519Key {
  /** The public key as OpenSSH writes it: `ssh-ed25519 AAAA…`. */
  openssh: string;
  /** OpenSSH's fingerprint, `SHA256:<base64>`: the envelope's keyid. */
  keyid: string;
  publicKey: KeyObject;
}

export interface Ed25519Signer extends Ed25519Key {
  privateKey: KeyObject;
}

const b64url = (b: Buffer) => b.toString('base64url');

/** Reads SSH wire-format strings and integers. */
class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  uint32(): number {
    if (this.at + 4 > this.buf.length) throw new Error('truncated');
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  bytes(): Buffer {
    const n = this.uint32();
    if (this.at + n > this.buf.length) throw new Error('truncated');
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  string(): string {
    return this.bytes().toString('latin1');
  }
  raw(n: number): Buffer {
    if (this.at + n > this.buf.length) throw new Error('truncated');
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
}

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** The public key blob `string "ssh-ed25519" string pub32`, as in authorized_keys. */
function ed25519Blob(pub: Buffer): Buffer {
  return Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(pub)]);
}

function keyFromPublic(pub: Buffer): Ed25519Key {
  const blob = ed25519Blob(pub);
  return {
    openssh: `ssh-ed25519 ${blob.toString('base64')}`,
    keyid: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
    publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(pub) }, format: 'jwk' }),
  };
}

/** Every `ssh-ed25519 BASE64` key in a .pub or allowed_signers text (other key types are skipped). */
export function ed25519PublicKeys(text: string): Ed25519Key[] {
  const keys: Ed25519Key[] = [];
  for (const m of text.matchAll(/(?:^|\s)ssh-ed25519\s+([A-Za-z0-9+/]+={0,2})/g)) {
    try {
      const r = new Reader(Buffer.from(m[1] ?? '', 'base64'));
      if (r.string() !== 'ssh-ed25519') continue;
      const pub = r.bytes();
      if (pub.length === 32) keys.push(keyFromPublic(pub));
    } catch {
      // not a key: skipped
    }
  }
  return keys;
}

/**
 * The ed25519 key in an OpenSSH private key file, or a refusal saying why it cannot
 * sign an envelope (another key type, or a passphrase). `undefined` for other key types.
 */
export function readEd25519PrivateKey(text: string, file: string): Ed25519Signer | undefined {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  const bad = (why: string) =>
    new UsageError(
      `${file}: ${why}`,
      'sign with an OpenSSH ed25519 private key file (ssh-keygen -t ed25519) without a passphrase',
    );
  if (!m) throw bad('not an OpenSSH private key ("-----BEGIN OPENSSH PRIVATE KEY-----")');
  const data = Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64');
  const magic = Buffer.from('openssh-key-v1\0', 'latin1');
  if (!data.subarray(0, magic.length).equals(magic)) throw bad('not an openssh-key-v1 private key');
  try {
    const r = new Reader(data.subarray(magic.length));
    const cipher = r.string();
    r.string(); // kdf name
    r.bytes(); // kdf options
    if (r.uint32() !== 1) throw bad('holds more than one key');
    const publicBlob = new Reader(r.bytes());
    if (publicBlob.string() !== 'ssh-ed25519') return undefined;
    if (cipher !== 'none')
      throw bad('is protected by a passphrase, so its ed25519 key cannot sign the DSSE envelope here');
    const priv = new Reader(r.bytes());
    const check1 = priv.uint32();
    const check2 = priv.uint32();
    if (check1 !== check2) throw bad('is damaged (check integers differ)');
    if (priv.string() !== 'ssh-ed25519') throw bad('is damaged (key type)');
    const pub = priv.bytes();
    const secret = priv.bytes();
    if (pub.length !== 32 || secret.length !== 64 || !secret.subarray(32).equals(pub))
      throw bad('is damaged (ed25519 key lengths)');
    const seed = secret.subarray(0, 32);
    return {
      ...keyFromPublic(pub),
      privateKey: createPrivateKey({
        key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: b64url(pub) },
        format: 'jwk',
      }),
    };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw bad(`is damaged (${(err as Error).message})`);
  }
}

/** One envelope, one signature: the canonical statement bytes, signed over their PAE. */
export function signEnvelope(
  payload: Buffer,
  key: Ed25519Signer,
  payloadType = INTOTO_PAYLOAD_TYPE,
): Envelope {
  const sig = sign(null, preAuthEncoding(payloadType, payload), key.privateKey);
  return {
    payloadType,
    payload: payload.toString('base64'),
    signatures: [{ keyid: key.keyid, sig: sig.toString('base64') }],
  };
}

/** One line of JSON and a newline (the .intoto.jsonl form). */
export function formatEnvelope(e: Envelope): string {
  return `${JSON.stringify({ payloadType: e.payloadType, payload: e.payload, signatures: e.signatures })}\n`;
}

export type EnvelopeCheck =
  | {
      ok: true;
      payload: Buffer;
      keyid: string;
      /** How many signatures the envelope holds, and which one (1-based) verified: DSSE accepts any one valid. */
      present: number;
      verified: number;
    }
  | { ok: false; message: string };

/** Strict base64 (what DSSE writes): no stray characters that a lenient decoder would drop. */
function base64(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0)
    return undefined;
  return Buffer.from(value, 'base64');
}

/**
 * Parse and check an envelope: the in-toto payload type, and at least one signature over
 * the PAE by one of `keys`. The payload is returned only when a signature holds.
 */
export function verifyEnvelope(text: string, keys: readonly Ed25519Key[]): EnvelopeCheck {
  let env: Partial<Envelope>;
  try {
    env = JSON.parse(text) as Partial<Envelope>;
  } catch (err) {
    return { ok: false, message: `not a DSSE envelope: invalid JSON (${(err as Error).message})` };
  }
  if (env.payloadType !== INTOTO_PAYLOAD_TYPE)
    return {
      ok: false,
      message: `payloadType is ${JSON.stringify(env.payloadType)}, expected "${INTOTO_PAYLOAD_TYPE}"`,
    };
  const payload = base64(env.payload);
  if (!payload) return { ok: false, message: 'payload is not base64' };
  if (!Array.isArray(env.signatures) || env.signatures.length === 0)
    return { ok: false, message: 'the envelope holds no signature' };
  const pae = preAuthEncoding(env.payloadType, payload);
  for (const [i, s] of env.signatures.entries()) {
    const sig = base64(s?.sig);
    if (!sig) continue;
    for (const k of keys)
      if (verify(null, pae, k.publicKey, sig))
        return { ok: true, payload, keyid: k.keyid, present: env.signatures.length, verified: i + 1 };
  }
  return {
    ok: false,
    message:
      keys.length === 0
        ? 'no ed25519 public key was given to check it with'
        : 'no signature in the envelope verifies with the given key (changed after signing, or signed by another key)',
  };
}
