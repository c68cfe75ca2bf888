/**
 * A run's inputs (other boards' artifacts, pinned files) as in-toto resource descriptors:
 * one `resolvedDependencies` entry each, named by where the build found it.
 */
import type { ManifestInput, ManifestInputRecord } from '../hashes/runManifest.js';
import type { ResourceDescriptor } from './resourceDescriptor.js';

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

/**
 * How a rebuild's inputs differ from the ones a statement records, one line each, naming the
 * input (and its producer): `verify` reports these before the artifacts they explain.
 */
export function inputDifferences(
  recorded: readonly ResourceDescriptor[],
  rebuilt: readonly ManifestInputRecord[],
): string[] {
  const was = new Map(
    recorded
      .filter((d) => d.name.startsWith(INPUT_PREFIX))
      .map((d) => [d.name.slice(INPUT_PREFIX.length), d]),
  );
  const now = new Map(rebuilt.map((i) => [i.path, i]));
  const out: string[] = [];
  for (const [path, d] of was) {
    const mine = now.get(path);
    const from = d.annotations?.['board']
      ? ` (board ${d.annotations['board']}, artifact ${d.annotations['artifact']})`
      : '';
    if (!mine) out.push(`input ${path}${from}: the release had it, the rebuild did not`);
    else if (mine.sha256 !== d.digest['sha256'])
      out.push(
        `input ${path}${from}: the release was built with sha256 ${d.digest['sha256']}, the rebuild ${mine.board ? `of board ${mine.board} ` : ''}gave ${mine.sha256}`,
      );
  }
  for (const path of now.keys())
    if (!was.has(path)) out.push(`input ${path}: the rebuild had it, the release did not`);
  return out;
}

export const PATCH_PREFIX = 'patch/';

/** A Debian source's applied patches, in the order applied: `patch/NAME` with its sha256. */
export function patchDependencies(source: ManifestInput['source']): ResourceDescriptor[] {
  return (source.patches?.applied ?? []).map((p, i) => ({
    name: `${PATCH_PREFIX}${p.name}`,
    digest: { sha256: p.sha256 },
    annotations: { order: String(i + 1) },
  }));
}
