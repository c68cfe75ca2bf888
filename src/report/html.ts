/**
 * One self-contained HTML page for a comparison (inline CSS, no scripts, no
 * external resources, so it can be opened from a CI artifact or mailed): the
 * pins and image IDs at the top, then a boards × runs grid, green where every
 * run agrees, red where one does not, each cell with the machine, the hash, the
 * size, the build time and a link to the log; each mismatch's diff report shown in its row
 * (or linked, when the caller kept the reports as files).
 * Links are relative to the page, so the page and the run folders move together.
 */
import { relative, sep } from 'node:path';
import { type ArtifactResult, allArtifacts, type Comparison } from '../compare/compare.js';
import type { HashSet } from '../compare/model.js';
import type { CulpritJson } from '../contracts/json.js';
import type { Manifest } from '../hashes/runManifest.js';
import { culpritTextFrom } from './verdicts.js';

export interface ReportInput {
  comparison: Comparison;
  sets: HashSet[];
  /** Manifest of each input label that has one. */
  manifests: Map<string, Manifest>;
  /**
   * Diff reports. `embedded`: the text report's content, shown in the page itself (then the
   * page is the only file `report` writes); without it, `text` and `html` are linked.
   */
  reports: Array<{ artifact: string; text: string; html: string | undefined; embedded?: string }>;
  /** Build log of each input label, when one exists. */
  logs?: Map<string, string>;
  /** Folder of the HTML file: links are relative to it. */
  outDir: string;
  /** What the culprit search found (from the run folders' culprits.json). */
  culprits?: CulpritJson[];
}

export const esc = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** A relative URL: each path segment encoded, so names with spaces or '#' still link. */
const href = (from: string, to: string) => relative(from, to).split(sep).map(encodeURIComponent).join('/');

const unique = (xs: string[]) => [...new Set(xs)];

const bytes = (n: number) => `${n.toLocaleString('en-US')} B`;

type CellClass = 'good' | 'bad' | 'missing' | 'single' | 'unknown';

function cellClass(a: ArtifactResult, label: string): CellClass {
  const sha = a.hashes[label];
  if (sha === null) return 'missing';
  if (a.disagreeing.includes(label)) return 'bad';
  if (a.verdict === 'mismatch') return 'bad'; // no majority: every run is suspect
  if (a.verdict === 'reproducible') return 'good';
  if (a.verdict === 'single-run') return 'single';
  return 'unknown';
}

const VERDICT_TEXT: Record<string, string> = {
  reproducible: 'reproducible',
  mismatch: 'MISMATCH',
  missing: 'MISSING',
  'single-run': 'one run only',
};

/** The page's own style sheet (the report is one self-contained file). */
const STYLE = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1d1d1f;background:#fff}
h1{font-size:1.5em;margin:0 0 .2em}h1.ok{color:#176317}h1.bad{color:#a11}
.summary{margin:0 0 1em;color:#444}
table{border-collapse:collapse}
.facts th{text-align:left;padding:.15em 1em .15em 0;color:#555;font-weight:600;vertical-align:top}
.facts td{padding:.15em 0}.facts code{font-size:12px}
#grid{margin-top:1.2em}
#grid th,#grid td{border:1px solid #bbb;padding:.45em .6em;vertical-align:top;text-align:left}
#grid thead th{background:#f0f0f0}
th.artifact{min-width:11em;background:#fafafa}
.board{color:#555;font-weight:400;font-size:12px}.name{font-size:15px}
.verdict{font-weight:700;font-size:12px;letter-spacing:.02em}
.verdict.reproducible{color:#176317}.verdict.mismatch,.verdict.missing{color:#a11}.verdict.single-run{color:#7a5b00}
td.cell{width:19em}
code.sha{display:block;font:12px/1.35 ui-monospace,"DejaVu Sans Mono",monospace;word-break:break-all;margin:.2em 0}
td.good{background:#c8f0c8}td.bad{background:#f4b4b4}td.missing{background:#f4b4b4}td.single{background:#fff2b3}
td.empty{background:repeating-linear-gradient(45deg,#fff,#fff 6px,#f3f3f3 6px,#f3f3f3 12px)}
.who{font-size:12px}.meta{color:#444;font-size:12px}.dim{color:#777}
.flag{color:#8b0000;font-weight:700;margin-right:.5em}
.cause{font-size:12px;color:#8b0000;margin:.2em 0}
.legend{margin-top:1em;font-size:12px;color:#444}.legend span{display:inline-block;padding:.1em .6em;margin-right:.6em;border:1px solid #bbb}
ul.notes{font-size:12px;color:#444}
details.diff summary{font-size:12px;cursor:pointer}details.diff pre{font-size:11px;max-width:60em;max-height:30em;overflow:auto;white-space:pre-wrap;background:#f6f6f6;padding:.4em}`;

export function renderHtml(input: ReportInput): string {
  const { comparison } = input;
  const artifacts = allArtifacts(comparison);
  const link = (path: string, text: string) => `<a href="${esc(href(input.outDir, path))}">${esc(text)}</a>`;
  const manifests = [...input.manifests.values()];
  const pins = unique(
    manifests.flatMap((m) => [m.pin, ...m.extraPins].map((p) => `${p.name}: ${p.flake} ${p.narHash}`)),
  );
  const images = unique(manifests.map((m) => `${m.image.name}: ${m.image.id}`));
  const tools = unique(manifests.map((m) => `${m.tool.name} ${m.tool.version}`));
  const machines = unique(manifests.map((m) => m.run.machine ?? '').filter(Boolean)).sort();
  const counts = new Map<string, number>();
  for (const a of artifacts) counts.set(a.verdict, (counts.get(a.verdict) ?? 0) + 1);
  const width = Math.max(1, ...artifacts.map((a) => Object.keys(a.hashes).length));

  const cell = (a: ArtifactResult, label: string) => cellHtml(input, a, label, link);

  const rows = artifacts.map((a) => {
    const diff = input.reports.find((r) => r.artifact === a.name);
    const labels = Object.keys(a.hashes);
    const artifact = a.board && a.name.startsWith(`${a.board}/`) ? a.name.slice(a.board.length + 1) : a.name;
    const links =
      diff?.embedded !== undefined
        ? `<details class="diff"><summary>diff report</summary><pre>${esc(diff.embedded)}</pre></details>`
        : diff
          ? `<div class="meta">${link(diff.text, 'diff report')}${diff.html ? ` · ${link(diff.html, 'HTML diff')}` : ''}</div>`
          : '';
    const cause =
      a.verdict === 'reproducible' ? undefined : culpritTextFrom(input.culprits, a.board ?? '', artifact);
    const culprit = cause ? `<div class="cause">${esc(cause)}</div>` : '';
    const filler = '<td class="empty"></td>'.repeat(width - labels.length);
    return `<tr class="${a.verdict === 'reproducible' ? 'ok' : 'not-ok'}"><th class="artifact" scope="row">${a.board ? `<div class="board">${esc(a.board)}</div>` : ''}<div class="name">${esc(artifact)}</div><div class="verdict ${esc(a.verdict)}">${esc(VERDICT_TEXT[a.verdict] ?? a.verdict)}</div>${culprit}${links}</th>${labels.map((l) => cell(a, l)).join('')}${filler}</tr>`;
  });

  const fact = (name: string, values: string[]) =>
    `<tr><th scope="row">${esc(name)}</th><td>${values.length ? values.map((v) => `<code>${esc(v)}</code>`).join('<br>') : '<span class="dim">(not recorded)</span>'}</td></tr>`;
  const summary = ['reproducible', 'mismatch', 'missing', 'single-run']
    .filter((v) => counts.has(v))
    .map((v) => `${counts.get(v)} ${VERDICT_TEXT[v]}`)
    .join(', ');
  const runHeads = Array.from({ length: width }, (_, i) => `<th scope="col">run ${i + 1}</th>`).join('');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="color-scheme" content="light">
<title>reprorom: ${comparison.ok ? 'reproducible' : 'NOT reproducible'}</title>
<style>
${STYLE}
</style></head><body>
<h1 class="${comparison.ok ? 'ok' : 'bad'}">reprorom: ${comparison.ok ? 'reproducible' : 'NOT reproducible'}</h1>
<p class="summary">${esc(summary || 'no artifacts')} · ${comparison.inputs.length} runs${machines.length ? ` on ${machines.length} machine${machines.length > 1 ? 's' : ''}` : ''}</p>
<table class="facts">
${fact('pins', pins)}
${fact('images', images)}
${fact('machines', machines)}
${fact('tool', tools)}
</table>
<table id="grid"><thead><tr><th scope="col">board / artifact</th>${runHeads}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
<p class="legend"><span class="l-good" style="background:#c8f0c8">identical in every run</span><span style="background:#f4b4b4">differs or missing</span><span style="background:#fff2b3">one run only: not verified</span></p>
${comparison.notes.length ? `<ul class="notes">${comparison.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}

/** One run's cell of an artifact's row: who ran it, its hash, size, time, boot and log. */
function cellHtml(
  input: ReportInput,
  a: ArtifactResult,
  label: string,
  link: (path: string, text: string) => string,
): string {
  const cls = cellClass(a, label);
  const sha = a.hashes[label] ?? null;
  const m = input.manifests.get(label);
  const size = m?.artifacts.find((x) => x.sha256 === sha)?.size;
  const log = input.logs?.get(label);
  const who = m
    ? `${m.run.machine ? `<b>${esc(m.run.machine)}</b> · ` : ''}run ${m.run.index} <span class="dim">${esc(m.run.id)}</span>`
    : `<b>${esc(label)}</b>`;
  const meta = [
    size !== undefined ? bytes(size) : '',
    m ? `${(m.durationMs / 1000).toFixed(1)} s` : '',
    m?.boot ? `boot ${m.boot.ok ? 'ok' : 'FAILED'}` : '',
    log ? link(log, 'log') : '',
  ].filter(Boolean);
  const mark =
    cls === 'bad'
      ? '<span class="flag">✗ differs</span>'
      : cls === 'missing'
        ? '<span class="flag">✗ missing</span>'
        : '';
  return `<td class="cell ${cls}" data-label="${esc(label)}" data-sha256="${esc(sha ?? '')}" title="${esc(label)}"><div class="who">${who}</div><code class="sha">${esc(sha ?? '(missing)')}</code><div class="meta">${mark}${meta.join(' · ')}</div></td>`;
}
