/** The files that record one successful run beside its artifacts: hashes.txt, manifest.json and the provenance statement. */
import { writeHashesTxt } from '../hashes/hashesTxt.js';
import { type ManifestInput, writeManifest } from '../hashes/runManifest.js';
import { writeProvenance } from '../provenance/statement.js';
import type { BuiltArtifact } from './types.js';

export async function writeRunRecords(
  dir: string,
  artifacts: BuiltArtifact[],
  manifest: ManifestInput,
): Promise<void> {
  await writeHashesTxt(dir, artifacts);
  await writeManifest(dir, manifest);
  await writeProvenance(dir, manifest);
}
