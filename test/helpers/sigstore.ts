/**
 * A DSSE envelope checked by an implementation that is not ours: sigstore's verifier
 * (@sigstore/verify), given a sigstore bundle that carries the envelope and a public-key
 * hint, with transparency-log, certificate and timestamp checks off (no network).
 */
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { bundleFromJSON } from '@sigstore/bundle';
import { type TrustMaterial, toSignedEntity, Verifier } from '@sigstore/verify';

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/**
 * An OpenSSH ed25519 public key (.pub) as the SPKI PEM sigstore takes, converted without
 * reprorom's parser: the key blob ends with the 32 key bytes, and an ed25519 SPKI is a
 * fixed 12-byte DER prefix (RFC 8410) followed by them.
 */
export async function spkiPemOfSshPub(pubFile: string): Promise<string> {
  const blob = Buffer.from((await readFile(pubFile, 'utf8')).split(/\s+/)[1] ?? '', 'base64');
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), blob.subarray(-32)]);
  return createPublicKey({ key: der, format: 'der', type: 'spki' })
    .export({ format: 'pem', type: 'spki' })
    .toString();
}

/** Throws (sigstore's VerificationError) unless the envelope verifies with `publicPem`. */
export function sigstoreVerifyDsse(envelope: DsseEnvelope, publicPem: string): void {
  const keyid = envelope.signatures[0]?.keyid ?? '';
  const bundle = bundleFromJSON({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      publicKey: { hint: keyid },
      tlogEntries: [],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    dsseEnvelope: envelope,
  });
  const trust: TrustMaterial = {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey: (hint: string) => {
      if (hint !== keyid) throw new Error(`unknown key ${hint}`);
      return { publicKey: createPublicKey(publicPem), validFor: () => true };
    },
  };
  new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, tsaThreshold: 0 }).verify(
    toSignedEntity(bundle),
  );
}
