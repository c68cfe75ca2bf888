/** A pin as recorded in a manifest: enough to fetch and verify it again. */
export interface LockedPinRef {
  name: string;
  flake: string;
  narHash: string;
}

export interface BuiltArtifact {
  /** Relative to the run folder, e.g. artifacts/out/bios.bin. */
  path: string;
  sha256: string;
  size: number;
}
