/** What `verify` answers and what it is given: shared by the release-folder and the Heads-list paths. */
import type { CompareOutcome } from '../compare/outcome.js';
import type { Engine } from '../engine/port.js';
import type { ImagePreparer } from '../imagebuild/prepare.js';
import type { ProgressListener } from '../runs/progress.js';
import type { Check } from './check.js';
import type { SignatureCheck } from './signature.js';

export interface ArtifactVerdict {
  name: string;
  verdict: string;
  release: string | null;
  rebuilt: string | null;
}

export interface BoardVerification {
  board: string;
  checks: Check[];
  runDir: string | null;
  artifacts: ArtifactVerdict[];
  comparison: CompareOutcome | null;
}

export interface VerifyResult {
  mode: 'release' | 'heads';
  /** False for `--no-rebuild`: signatures and hashes only. */
  rebuilt: boolean;
  release: string;
  signature: { ok: boolean; key: string; files: SignatureCheck[] } | null;
  integrity: Check[];
  boards: BoardVerification[];
  notes: string[];
  ok: boolean;
}

export interface VerifyOptions {
  workspace: string;
  key?: string;
  keyring?: string;
  rom?: string;
  board?: string;
  /** Signatures and hashes only: no workspace, engine or nix (`--rom` is then a file to check). */
  noRebuild?: boolean;
  signal?: AbortSignal;
  engine?: Engine;
  /** How images are made ready (default: built from the pin or answered from the cache). */
  prepareImage?: ImagePreparer;
  onProgress?: ProgressListener;
}
