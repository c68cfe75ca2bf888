/**
 * `attest --run RUN_FOLDER`: the ROMs of a `build --runs N` run folder (this machine's, or
 * one copied from a CI job) as the rebuilt bytes of a release. The folder is read by
 * compare's loader (compare/inputs.ts), so a foreign or hostile folder is refused exactly as
 * `compare` refuses it: links, FIFOs and devices by name, a lost manifest, an artifacts
 * folder replaced by a file. What is attested must be what the build wrote and what is on
 * disk now, and every run of a board must agree: anything else is refused, never attested.
 */
import { loadInput } from '../compare/inputs.js';
import { artifactsOf } from '../compare/model.js';
import { releasePath } from '../release/write.js';
import { MismatchError, UsageError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { type RebuiltRoms, type ReleaseIdentity, romName } from './statement.js';

/** Each argument a run folder, a board's folder in one, or a board-run folder (what `verify --json` names). */
export async function hashRebuiltRuns(
  release: ReleaseIdentity,
  runFolders: readonly string[],
): Promise<RebuiltRoms> {
  const boards = new Set(release.manifest.boards.map((b) => b.board));
  const sets = [];
  // Culprit-search reruns change an input on purpose: they are not rebuilds of the release.
  for (const f of runFolders) sets.push(...(await loadInput(f)).filter((s) => !s.culpritRerun));
  const runs = sets.filter((s) => s.format === 'manifest' && s.board !== undefined && boards.has(s.board));
  if (runs.length === 0)
    throw new UsageError(
      `--run ${runFolders.map(printable).join(' ')} holds no run of the release's boards (${[...boards].join(', ')})`,
      'pass the run folder a `reprorom build BOARD --runs N` of those boards wrote (.reprorom/runs/RUN)',
    );
  const out = new Map<string, string>();
  const from = new Map<string, string>();
  for (const set of runs)
    for (const a of artifactsOf(set)) {
      const rom = romName(`${set.board}/${releasePath(a.path)}`);
      if (a.recorded !== undefined)
        throw new UsageError(
          `${printable(a.file ?? a.path)} has sha256 ${a.sha256}, but its run recorded ${a.recorded}: the run folder was changed after the build, not attested`,
          'attest the run folder as the build wrote it, or build again',
        );
      if (a.file === undefined)
        throw new UsageError(
          `${printable(set.label)}: the run folder does not carry ${printable(a.path)}, only its recorded hash`,
          'attest a run folder with its artifacts/ (or the rebuilt release folder with --rebuilt)',
        );
      const seen = out.get(rom);
      if (seen !== undefined && seen !== a.sha256)
        throw new MismatchError(
          `the runs disagree on ${printable(rom)}: ${from.get(rom)} gave ${seen}, ${printable(set.label)} gave ${a.sha256}; a rebuild that does not reproduce on its own machine is not attested`,
          'compare the run folder (`reprorom compare RUN`) to see why, then build again',
        );
      out.set(rom, a.sha256);
      from.set(rom, printable(set.label));
    }
  return out;
}
