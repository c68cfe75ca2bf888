import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import { ExitCode } from '../../util/errors.js';
import { jsonSchemaFor, schemaFileNames, type WorkspaceKind } from '../../workspace/schema.js';
import { printLine, printOutput } from '../output.js';

export async function runSchemas(opts: { out: string; json?: boolean }): Promise<number> {
  const files: string[] = [];
  for (const kind of Object.keys(schemaFileNames) as WorkspaceKind[]) {
    const file = join(opts.out, schemaFileNames[kind]);
    await writeFileAtomic(file, `${JSON.stringify(jsonSchemaFor(kind), null, 2)}\n`);
    files.push(file);
    if (!opts.json) printLine(file);
  }
  if (opts.json) printOutput('schemas', { schema: 'reprorom.schemas/v1', ok: true, files });
  return ExitCode.ok;
}
