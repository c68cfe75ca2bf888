/**
 * JSON Schemas (draft-07) of the files reprorom reads and writes, generated from the zod
 * schemas that check them: the workspace files (pins, images, boards), a run's
 * manifest.json and a release's manifest.json. `npm run schemas` writes them to schemas/
 * (with the output and provenance schemas, generated from their TypeScript types);
 * test/unit/json-schemas.test.ts fails when the files drift from the code.
 */
import * as z from 'zod/mini';
import { manifestSchema } from '../hashes/runManifest.js';
import { jsonSchemaFor, schemaFileNames, type WorkspaceKind } from '../workspace/schema.js';
import { releaseManifestSchema } from './releaseManifest.js';

/** File name in schemas/ → schema. */
export function documentSchemas(): Record<string, object> {
  const out: Record<string, object> = {};
  for (const kind of Object.keys(schemaFileNames) as WorkspaceKind[])
    out[schemaFileNames[kind]] = jsonSchemaFor(kind);
  // Files reprorom writes. A run manifest leaves out what has a default (no `inputs` for a
  // board without any, so such manifests stay what they always were): described as read.
  out['manifest.schema.json'] = z.toJSONSchema(manifestSchema, {
    target: 'draft-07',
    io: 'input',
    unrepresentable: 'any',
  });
  // The release manifest: what it holds after defaults are applied.
  out['release-manifest.schema.json'] = z.toJSONSchema(releaseManifestSchema, {
    target: 'draft-07',
    io: 'output',
    unrepresentable: 'any',
  });
  return out;
}
