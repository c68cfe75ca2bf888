/** `reprorom report RUN… --html FILE`: the comparison as one page people can look at. */
import { dirname, join, resolve } from 'node:path';
import { compareSets } from '../../compare/compare.js';
import { loadInputs } from '../../compare/inputs.js';
import { MANIFEST_FILE, type Manifest, readManifest } from '../../hashes/manifest.js';
import { renderHtml } from '../../report/html.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { ExitCode } from '../../util/errors.js';
import { printJson, printLine } from '../output.js';
import { compareInputs } from './compare.js';

export async function runReport(runs: string[], opts: { html: string; json?: boolean }): Promise<number> {
  const out = resolve(opts.html);
  const sets = await loadInputs(runs);
  const { reports } = await compareInputs(runs, { report: join(dirname(out), 'diff') });
  const comparison = compareSets(sets);
  const manifests = new Map<string, Manifest>();
  for (const s of sets) {
    if (s.manifestDir) manifests.set(s.label, await readManifest(join(s.manifestDir, MANIFEST_FILE)));
  }
  await writeFileAtomic(out, renderHtml({ comparison, sets, manifests, reports, outDir: dirname(out) }));
  if (opts.json) printJson({ html: out, ok: comparison.ok });
  else printLine(out);
  return comparison.ok ? ExitCode.ok : ExitCode.mismatch;
}
