import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { safeJoin } from '../../archive/containment.js';
import { foreignEntry } from '../../archive/foreignFolder.js';
import { attestationHistory } from '../../attest/history.js';
import { loadInputs } from '../../compare/inputs.js';
import { compareInputs } from '../../compare/outcome.js';
import { verdictSummary } from '../../compare/summary.js';
import type { AttestationHistoryJson } from '../../contracts/json.js';
import { MANIFEST_FILE, type Manifest, readManifest } from '../../hashes/runManifest.js';
import { mergedLog } from '../../merge/merge.js';
import { renderAttestationHistory } from '../../report/attestationsHtml.js';
import { readCulprits } from '../../report/culpritsFile.js';
import { renderHtml } from '../../report/html.js';
import { checkOutputFile, writeOutputFile } from '../../report/outputFile.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { printable } from '../../util/printable.js';
import { outcomeError, printLine, printOutput, writeOut } from '../output.js';

/** A board run's log: RUN/BOARD.log after a build, or the one merge.json points to in a merged folder. */
async function logOf(manifestDir: string, m: Manifest): Promise<string | undefined> {
  const runDir = dirname(dirname(manifestDir));
  // The board name comes from the manifest: it goes through the containment check like every input path.
  const direct = safeJoin(runDir, `${m.board}.log`);
  // Linked only when a regular file: a link to a host file is refused by name.
  if (direct && (await foreignEntry(direct)) === 'file') return direct;
  const merged = await mergedLog(runDir, m.board, Number(manifestDir.split(/[\\/]/).at(-1)));
  return merged && (await foreignEntry(merged)) === 'file' ? merged : undefined;
}

/** The most of one diff report the page shows; the rest is a command away. */
const EMBEDDED_REPORT_BYTES = 256 * 1024;

async function embedded(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '(the diff report could not be read)');
  if (Buffer.byteLength(text) <= EMBEDDED_REPORT_BYTES) return text;
  const cut = Buffer.from(text).subarray(0, EMBEDDED_REPORT_BYTES).toString('utf8');
  return `${cut}\n… (cut at ${EMBEDDED_REPORT_BYTES / 1024} KiB: \`reprorom report … --diff-dir DIR\` or \`reprorom compare … --report DIR\` keeps the whole report)`;
}

export interface ReportCliOptions {
  html: string;
  diffDir?: string;
  json?: boolean;
  attestations?: string[];
  trust?: string;
}

export async function runReport(runs: string[], opts: ReportCliOptions): Promise<number> {
  if (opts.attestations !== undefined || opts.trust !== undefined) return attestationReport(runs, opts);
  if (runs.length === 0)
    throw new UsageError(
      'report needs run folders (or --attestations DIR --trust FILE)',
      'reprorom report .reprorom/runs/RUN --html report.html',
    );
  const out = resolve(opts.html);
  const outDir = dirname(out);
  // Refused before any work.
  await checkOutputFile(opts.html, '--html');
  // The page is the one file written: diff reports are made in a temporary folder and shown in
  // the page. With --diff-dir they are kept there instead (text and diffoscope's HTML), and linked.
  const scratch = opts.diffDir ? undefined : await mkdtemp(join(tmpdir(), 'reprorom-report-'));
  try {
    return await reportInto(
      runs,
      opts,
      out,
      outDir,
      opts.diffDir ? resolve(opts.diffDir) : (scratch as string),
      !scratch,
    );
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

/** `report --attestations DIR --trust FILE --html FILE`: the history of rebuild attestations. */
async function attestationReport(runs: string[], opts: ReportCliOptions): Promise<number> {
  const hint = 'reprorom report --attestations attestations/ --trust rebuilders.txt --html rebuilds.html';
  if (runs.length > 0 || opts.diffDir !== undefined)
    throw new UsageError(
      '--attestations makes a page of its own: no run folders or --diff-dir with it',
      hint,
    );
  if (opts.attestations === undefined || opts.trust === undefined)
    throw new UsageError(
      "--attestations needs --trust FILE: only trusted rebuilders' signed attestations are shown",
      hint,
    );
  await checkOutputFile(opts.html, '--html');
  const history = await attestationHistory(opts.attestations, opts.trust);
  const out = resolve(opts.html);
  await writeOutputFile(opts.html, '--html', renderAttestationHistory(history));
  if (opts.json) {
    const json: AttestationHistoryJson = { ...history, ok: true, html: out };
    writeOut(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    for (const n of history.notShown) printLine(`not shown: ${printable(n.file)}: ${printable(n.reason)}`);
    printLine(out);
  }
  return ExitCode.ok;
}

async function reportInto(
  runs: string[],
  opts: { html: string; json?: boolean },
  out: string,
  outDir: string,
  diffDir: string,
  keep: boolean,
): Promise<number> {
  const { comparison, reports } = await compareInputs(runs, { report: diffDir });
  const sets = await loadInputs(runs);
  const manifests = new Map<string, Manifest>();
  const logs = new Map<string, string>();
  for (const s of sets) {
    if (!s.manifestDir || s.format !== 'manifest') continue;
    const m = await readManifest(join(s.manifestDir, MANIFEST_FILE));
    manifests.set(s.label, m);
    const log = await logOf(s.manifestDir, m);
    if (log) logs.set(s.label, log);
  }
  // A build that searched for culprits left them in its run folder.
  const culprits = (await Promise.all(runs.map((r) => readCulprits(resolve(r))))).flat();
  await writeOutputFile(
    opts.html,
    '--html',
    renderHtml({
      comparison,
      sets,
      manifests,
      reports: keep
        ? reports
        : await Promise.all(reports.map(async (r) => ({ ...r, embedded: await embedded(r.text) }))),
      logs,
      outDir,
      culprits,
    }),
  );
  if (opts.json)
    printOutput('report', {
      schema: 'reprorom.report/v1',
      ok: comparison.ok,
      ...(comparison.ok ? {} : { error: outcomeError(ExitCode.mismatch, verdictSummary(comparison)) }),
      html: out,
      reports: keep ? reports.map((r) => r.text) : [],
    });
  else printLine(out);
  return comparison.ok ? ExitCode.ok : ExitCode.mismatch;
}
