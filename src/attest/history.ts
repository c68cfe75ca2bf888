/**
 * `report --attestations DIR --trust FILE`: continuous rebuilding as a history. Per release
 * (its manifest sha256) and ROM, which trusted rebuilders got the same bytes, other bytes or
 * a failed build, and when. Only attestations whose signature holds for the key trusted for
 * their builder id are shown, and only when their predicate agrees with their subjects;
 * everything else is listed as not shown, with its reason (same checks as the k-of-n count).
 */

import type { AttestationHistoryJson, HistoryRebuildJson } from '../contracts/json.js';
import { printable } from '../util/printable.js';
import { romsProblem, signedStatement } from './threshold.js';
import { collectAttestations, readTrustFile } from './verifyAttestations.js';

export type HistoryRebuild = HistoryRebuildJson;

/** The history as data; the CLI adds `ok` and the page it wrote (`AttestationHistoryJson`). */
export type AttestationHistory = Omit<AttestationHistoryJson, 'ok' | 'html'>;

export async function attestationHistory(
  attestations: readonly string[],
  trustFile: string,
): Promise<AttestationHistory> {
  const trust = await readTrustFile(trustFile);
  const inputs = await collectAttestations(attestations);
  const releases = new Map<string, Map<string, { expected: string; rebuilds: HistoryRebuild[] }>>();
  const notShown: AttestationHistory['notShown'] = [];
  for (const input of inputs) {
    const signed = signedStatement(input, trust);
    if (!signed.ok) {
      notShown.push({ file: input.file, reason: signed.reason });
      continue;
    }
    const p = signed.statement.predicate;
    const release = p?.release?.manifestSha256;
    const time = typeof p?.time === 'string' ? p.time : '';
    if (typeof release !== 'string' || !/^[0-9a-f]{64}$/.test(release) || !Array.isArray(p?.roms)) {
      notShown.push({ file: input.file, reason: 'no release manifest sha256 or no roms in the predicate' });
      continue;
    }
    const { subjects, problem: subjectProblem } = subjectsOf(signed.statement.subject);
    let problem = subjectProblem;
    // The ROMs and their expected bytes as the statement itself lists them (no release folder here).
    const roms = p.roms as Array<{ name?: unknown; expected?: unknown }>;
    const expected = new Map(
      roms
        .filter((r) => typeof r?.name === 'string' && typeof r.expected === 'string')
        .map((r) => [r.name as string, r.expected as string]),
    );
    problem ??= romsProblem(p.roms, subjects, expected);
    if (problem) {
      notShown.push({ file: input.file, reason: problem });
      continue;
    }
    const byRom =
      releases.get(release) ?? new Map<string, { expected: string; rebuilds: HistoryRebuild[] }>();
    // Two statements that disagree on what this release holds: the later one is not about it.
    const conflict = [...expected].find(([rom, exp]) => (byRom.get(rom)?.expected ?? exp) !== exp);
    if (conflict) {
      notShown.push({
        file: input.file,
        reason: `expects ${printable(conflict[0])} to be ${printable(conflict[1])}, another attestation of the release says ${byRom.get(conflict[0])?.expected}`,
      });
      continue;
    }
    releases.set(release, byRom);
    for (const [rom, exp] of expected) {
      const entry = byRom.get(rom) ?? { expected: exp, rebuilds: [] };
      const rebuilt = subjects.get(rom);
      entry.rebuilds.push({
        builderId: signed.who.builderId,
        time,
        verdict: rebuilt === undefined ? 'failed' : rebuilt === exp ? 'same' : 'different',
        rebuilt: rebuilt ?? null,
        file: input.file,
      });
      byRom.set(rom, entry);
    }
  }
  return {
    schema: 'reprorom.attestation-history/v1',
    trusted: trust.map((t) => t.builderId),
    releases: [...releases]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([manifestSha256, roms]) => ({
        manifestSha256,
        roms: [...roms]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([rom, e]) => ({
            rom,
            expected: e.expected,
            rebuilds: e.rebuilds.sort((x, y) => (x.time < y.time ? 1 : x.time > y.time ? -1 : 0)),
          })),
      })),
    notShown,
  };
}

/** A statement's subjects as ROM name → sha256; a malformed or repeated one is a problem. */
function subjectsOf(subject: unknown): { subjects: Map<string, string>; problem?: string } {
  const subjects = new Map<string, string>();
  let problem: string | undefined;
  for (const sub of (Array.isArray(subject) ? subject : []) as Array<{
    name?: unknown;
    digest?: { sha256?: unknown };
  } | null>) {
    if (typeof sub?.name !== 'string' || typeof sub.digest?.sha256 !== 'string' || subjects.has(sub.name))
      problem = 'malformed or repeated subject';
    else subjects.set(sub.name, sub.digest.sha256);
  }
  return problem === undefined ? { subjects } : { subjects, problem };
}
