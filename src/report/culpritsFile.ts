/**
 * What the culprit search found, kept in the run folder (`RUN/culprits.json`), so `report`
 * can show it later. Read as untrusted input: only well-formed entries are kept.
 */
import { join } from 'node:path';
import { ForeignEntryError, readForeignFile } from '../archive/foreignFolder.js';
import type { CulpritJson, CulpritSearchJson } from '../contracts/json.js';
import { writeFileAtomic } from '../util/atomic.js';

export const CULPRITS_FILE = 'culprits.json';
const VERDICTS = new Set(['variation', 'combination', 'nondeterministic', 'unknown']);
/** A culprits file is small; anything larger is not one of ours. */
const MAX_BYTES = 4 * 1024 * 1024;

export async function writeCulprits(runDir: string, search: CulpritSearchJson): Promise<void> {
  await writeFileAtomic(
    join(runDir, CULPRITS_FILE),
    `${JSON.stringify({ schema: 'reprorom.culprits/v1', ...search }, null, 2)}\n`,
  );
}

const isString = (x: unknown): x is string => typeof x === 'string';

/** The culprits recorded in a run folder; none when there is no (valid) file. */
export async function readCulprits(runDir: string): Promise<CulpritJson[]> {
  let text: string;
  // A run folder may come from elsewhere: a link or FIFO here is refused by name (the error
  // propagates), a missing or oversized file is no culprits.
  try {
    const buf = await readForeignFile(join(runDir, CULPRITS_FILE), MAX_BYTES);
    if (buf === undefined) return [];
    text = buf.toString('utf8');
  } catch (err) {
    if (err instanceof ForeignEntryError && err.kind !== 'missing') throw err;
    return [];
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  const artifacts = (value as { artifacts?: unknown } | null)?.artifacts;
  if (!Array.isArray(artifacts)) return [];
  return artifacts.flatMap((a: unknown) => {
    const c = a as Partial<Record<keyof CulpritJson, unknown>> | null;
    if (!c || !isString(c.board) || !isString(c.artifact) || !isString(c.verdict) || !VERDICTS.has(c.verdict))
      return [];
    const culprits = Array.isArray(c.culprits) ? c.culprits.filter(isString) : [];
    return [{ board: c.board, artifact: c.artifact, verdict: c.verdict as CulpritJson['verdict'], culprits }];
  });
}
