/**
 * Culprit-search reruns (manifests with `run.culpritSearch`) are evidence about a mismatch,
 * not runs of a build: `merge` and `compare` leave them out unless asked (`--culprit-runs`),
 * and say how many they left out.
 */
export function culpritRunsNote(count: number): string {
  return `left out ${count} culprit-search rerun${count === 1 ? '' : 's'} (they explain a mismatch and are not runs of the build; pass --culprit-runs to include them)`;
}
