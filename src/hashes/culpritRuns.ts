/**
 * Culprit-search reruns (manifests with `run.culpritSearch`) are evidence about a mismatch,
 * not runs of a build: `merge` and `compare` leave them out unless asked (`--culprit-runs`),
 * and say how many they left out.
 */
export function culpritRunsNote(count: number): string {
  return `left out ${count} culprit-search rerun${count === 1 ? '' : 's'} (they explain a mismatch and are not runs of the build; pass --culprit-runs to include them)`;
}

/** Runs restored from the store (manifests with `run.restored`) feed consumers; their own verdict is the building shard's. */
export function restoredRunsNote(count: number): string {
  return `left out ${count} run${count === 1 ? '' : 's'} of producers restored from the store (built and compared by another build; a copy is not a second run)`;
}
