/** Boards that declare `expectMismatch`: name → reason. */
import type { Workspace } from './types.js';

export function expectedMismatches(ws: Workspace, boards?: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, entry] of ws.boards) {
    if (boards && !boards.includes(name)) continue;
    const reason = entry.value.expectMismatch;
    if (reason !== undefined) out.set(name, reason);
  }
  return out;
}
