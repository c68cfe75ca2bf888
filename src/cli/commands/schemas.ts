import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import { ExitCode } from '../../util/errors.js';
import { jsonSchemaFor, schemaFileNames, type WorkspaceKind } from '../../workspace/schema.js';
import { printLine } from '../output.js';

export async function runSchemas(opts: { out: string }): Promise<number> {
  for (const kind of Object.keys(schemaFileNames) as WorkspaceKind[]) {
    const file = join(opts.out, schemaFileNames[kind]);
    await writeFileAtomic(file, `${JSON.stringify(jsonSchemaFor(kind), null, 2)}\n`);
    printLine(file);
  }
  return ExitCode.ok;
}
