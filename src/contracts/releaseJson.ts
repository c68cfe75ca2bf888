/**
 * `release`, `sign` and `verify --json`, with the k-of-n count of attestations.
 * Part of the contract in json.ts (its header says what every output promises).
 */
import type { ComparisonJson } from './compareJson.js';
import type { ErrorJson } from './failureJson.js';

export interface ReleasedArtifactJson {
  board: string;
  /** Path inside the release folder. */
  path: string;
  sha256: string;
  size: number;
}

/**
 * `reprorom release BOARD… --out DIR --json`. (The release folder's own manifest.json is a
 * different document, `reprorom.release/v1`, described by schemas/release-manifest.schema.json.)
 */
export interface ReleaseJson {
  schema: 'reprorom.release-result/v1';
  ok: boolean;
  error?: ErrorJson;
  /** The release folder, or null when nothing was written. */
  out: string | null;
  /** The release folder's manifest.json, or null when nothing was written. */
  manifest: string | null;
  runDir: string;
  artifacts: ReleasedArtifactJson[];
  /** What the varied runs did not reproduce, e.g. `rom.bin (mismatch)`. */
  notReproducible: string[];
  comparison: ComparisonJson;
}

/** `reprorom sign DIR --json`. */
export interface SignJson {
  schema: 'reprorom.sign/v1';
  ok: true;
  format: 'ssh' | 'gpg';
  /** The files signed. */
  files: string[];
  /** The detached signatures written. */
  signatures: string[];
  /** The DSSE envelopes written (`BOARD/provenance.intoto.jsonl`; OpenSSH ed25519 keys only). */
  envelopes: string[];
  /** Why no envelope was written, when the release has provenance but the key cannot sign one. */
  envelopesSkipped?: string;
}

export interface CheckResultJson {
  name: string;
  ok: boolean;
  message: string;
}

export interface VerifiedArtifactJson {
  name: string;
  verdict: string;
  /** The hash the release publishes. */
  release: string | null;
  /** The hash of the rebuilt artifact. */
  rebuilt: string | null;
}

/** `reprorom verify RELEASE --json`. */
export interface VerifyJson {
  schema: 'reprorom.verify/v1';
  ok: boolean;
  error?: ErrorJson;
  mode: 'release' | 'heads';
  /** False for `verify --no-rebuild`: signatures and hashes only, nothing was built. */
  rebuilt: boolean;
  release: string;
  signature: {
    ok: boolean;
    key: string;
    files: Array<{ file: string; signature: string; ok: boolean; message: string }>;
  } | null;
  integrity: CheckResultJson[];
  boards: Array<{
    board: string;
    checks: CheckResultJson[];
    runDir: string | null;
    artifacts: VerifiedArtifactJson[];
    comparison: ComparisonJson | null;
  }>;
  notes: string[];
  /** `verify --attestations --trust --threshold`: how many trusted rebuilders agree per ROM. */
  attestations?: AttestationCountJson;
}

/** The k-of-n count of rebuilders' attestations (docs/attestation-v1.md). */
export interface AttestationCountJson {
  /** The trust file. */
  trust: string;
  /** How many rebuilders it trusts (n). */
  trusted: number;
  threshold: number;
  /** True only with --allow-disagreement: a trusted rebuilder that attests other bytes then does not fail a ROM. */
  allowDisagreement: boolean;
  /** --max-age as given, or null. */
  maxAge: string | null;
  /** The release as attested: sha256 of its manifest.json. */
  manifestSha256: string;
  roms: Array<{
    rom: string;
    /** The release's sha256 of it. */
    sha256: string;
    accepted: boolean;
    /** Builder ids of the trusted rebuilders that attest exactly this sha256. */
    agreeing: string[];
    /** Trusted rebuilders that attest other bytes for it. */
    disagreeing: Array<{ builderId: string; sha256: string }>;
  }>;
  /** Every attestation read; `reason` says why one does not count. */
  attestations: Array<{
    file: string;
    builderId: string | null;
    keyid: string | null;
    time: string | null;
    counted: boolean;
    reason: string | null;
  }>;
}
