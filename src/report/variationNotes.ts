/**
 * What every report says about variations, so nothing is off silently: per board, each
 * variation turned off (with the reason) and each one a run could not apply (with why).
 */
import type { BuildReportJson } from '../contracts/json.js';

export interface VariationNote {
  board: string;
  name: string;
  state: 'off' | 'not applied';
  reason: string;
  /** The runs that could not apply it (empty for off, or when the machine cannot at all). */
  runs: number[];
}

export function variationNotes(build: BuildReportJson | undefined): VariationNote[] {
  const notes: VariationNote[] = [];
  for (const b of build?.boards ?? []) {
    for (const [name, reason] of Object.entries(b.vary?.off ?? {}))
      notes.push({ board: b.board, name, state: 'off', reason, runs: [] });
    const notApplied = new Map<string, VariationNote>();
    for (const [name, reason] of Object.entries(b.vary?.notApplied ?? {}))
      notApplied.set(name, { board: b.board, name, state: 'not applied', reason, runs: [] });
    for (const r of b.runs) {
      for (const [name, reason] of Object.entries(r.notApplied ?? {})) {
        const note = notApplied.get(name) ?? { board: b.board, name, state: 'not applied', reason, runs: [] };
        if (b.vary?.notApplied[name] === undefined) note.runs.push(r.index);
        notApplied.set(name, note);
      }
    }
    notes.push(...notApplied.values());
  }
  return notes;
}

/** `variation aslr not applied (run 3): setarch -R was refused…` */
export function describeNote(n: VariationNote): string {
  const runs = n.runs.length ? ` (run${n.runs.length > 1 ? 's' : ''} ${n.runs.join(', ')})` : '';
  return `variation ${n.name} ${n.state}${runs}: ${n.reason}`;
}
