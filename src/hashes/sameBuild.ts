/**
 * Runs of one board are worth comparing only when they were built from the same inputs:
 * equal bytes from different sources or commands prove nothing about reproducibility. One
 * check, used by `merge` (before it joins run folders) and by every comparison of run folders.
 */
import { UsageError } from '../util/errors.js';
import type { Manifest } from './runManifest.js';

/** What must be equal for two runs of a board to be worth comparing: the inputs of the build. */
export function buildInputsOf(m: Manifest): Record<string, string> {
  return {
    pin: `${m.pin.name} ${m.pin.flake} ${m.pin.narHash}`,
    'extra pins': m.extraPins.map((p) => `${p.name} ${p.flake} ${p.narHash}`).join(', ') || '(none)',
    'image name': m.image.name,
    source: `${m.source.type} ${m.source.hash}`,
    commands: JSON.stringify(m.commands),
  };
}

/** One board run as the check sees it: the board, its build inputs and how to name it. */
export interface RunInputs {
  board: string;
  inputs: Record<string, string>;
  /** `RUN/BOARD#N@MACHINE (argument)`, as the message names it. */
  name: string;
}

/**
 * Throws a UsageError (exit 2) naming the first field in which two runs of one board differ;
 * `hint` says what the calling command accepts instead.
 */
export function refuseDifferentInputs(runs: Iterable<RunInputs>, hint: string): void {
  const first = new Map<string, RunInputs>();
  for (const r of runs) {
    const seen = first.get(r.board);
    if (!seen) {
      first.set(r.board, r);
      continue;
    }
    for (const field of Object.keys(seen.inputs)) {
      if (seen.inputs[field] !== r.inputs[field])
        throw new UsageError(
          `the inputs differ: runs of board ${r.board} were built from different inputs (conflicting manifests): ${seen.name} has ${field} ${seen.inputs[field]}, but ${r.name} has ${r.inputs[field]}`,
          hint,
        );
    }
  }
}
