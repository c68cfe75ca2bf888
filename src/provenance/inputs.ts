/**
 * A run's inputs (other boards' artifacts, pinned files) as in-toto resource descriptors:
 * one `resolvedDependencies` entry each, named by where the build found it.
 */
import type { ManifestInputRecord } from '../hashes/runManifest.js';
import type { ResourceDescriptor } from './statement.js';

export const INPUT_PREFIX = 'input/';

export function inputDependencies(inputs: readonly ManifestInputRecord[]): ResourceDescriptor[] {
  return [...inputs]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((i) => {
      const uri =
        i.type === 'url'
          ? i.url
          : i.type === 'debian' && i.package && i.version
            ? `pkg:deb/debian/${i.package}@${i.version}${i.arch ? `?arch=${i.arch}` : ''}`
            : undefined;
      const annotations: Record<string, string> =
        i.type === 'board' && i.board && i.artifact ? { board: i.board, artifact: i.artifact } : {};
      return {
        name: `${INPUT_PREFIX}${i.path}`,
        ...(uri ? { uri } : {}),
        digest: { sha256: i.sha256 },
        ...(Object.keys(annotations).length ? { annotations } : {}),
      };
    });
}
