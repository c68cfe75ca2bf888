export type { LockedPinRef } from '../plan/plan.js';

export interface BuiltArtifact {
  /** Relative to the run folder, e.g. artifacts/out/bios.bin. */
  path: string;
  sha256: string;
  size: number;
}
