/**
 * One self-contained HTML page for a comparison: boards × runs grid, green where
 * every run agrees, red where one does not, with hashes, sizes, build times and
 * links to logs and diff reports; the pins and image IDs at the top.
 */
import { dirname, join, relative } from 'node:path';
import type { Comparison } from '../compare/compare.js';
import type { HashSet } from '../compare/inputs.js';
import type { Manifest } from '../hashes/manifest.js';

export interface ReportInput {
  comparison: Comparison;
  sets: HashSet[];
  manifests: Map<string, Manifest>;
  reports: Array<{ artifact: string; text: string; html: string | undefined }>;
  /** Folder of the HTML file: links are relative to it. */
  outDir: string;
}

const esc = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

export function renderHtml(input: ReportInput): string {
  const { comparison } = input;
  const link = (path: string, text: string) =>
    `<a href="${esc(relative(input.outDir, path))}">${esc(text)}</a>`;
  const manifests = [...input.manifests.values()];
  const pins = [...new Set(manifests.map((m) => `${m.pin.name} ${m.pin.flake} ${m.pin.narHash}`))];
  const images = [...new Set(manifests.map((m) => `${m.image.name} ${m.image.id}`))];
  const labels = comparison.inputs.map((i) => i.label);
  const head = labels
    .map((l) => {
      const m = input.manifests.get(l);
      const set = input.sets.find((s) => s.label === l);
      const log = set?.manifestDir
        ? join(dirname(dirname(set.manifestDir)), `${m?.board ?? ''}.log`)
        : undefined;
      return `<th>${esc(l)}${m ? `<div class="meta">${(m.durationMs / 1000).toFixed(1)} s${m.boot ? ` · boot ${m.boot.ok ? 'ok' : 'FAILED'}` : ''}</div>` : ''}${log ? `<div class="meta">${link(log, 'log')}</div>` : ''}</th>`;
    })
    .join('');
  const rows = comparison.artifacts
    .map((a) => {
      const diff = input.reports.find((r) => r.artifact === a.name);
      const cells = labels
        .map((l) => {
          if (!(l in a.hashes)) return '<td class="na"></td>';
          const sha = a.hashes[l];
          const size = input.manifests.get(l)?.artifacts.find((x) => x.sha256 === sha)?.size;
          const cls =
            sha === null
              ? 'missing'
              : a.disagreeing.includes(l) || a.verdict === 'mismatch'
                ? 'bad'
                : a.verdict === 'reproducible'
                  ? 'good'
                  : 'single';
          return `<td class="${cls}" data-verdict="${esc(a.verdict)}" title="${esc(sha ?? 'missing')}"><code>${esc(sha ?? 'missing')}</code>${size !== undefined ? `<div class="meta">${size} bytes</div>` : ''}</td>`;
        })
        .join('');
      return `<tr><th class="artifact">${esc(a.name)}<div class="verdict ${a.verdict}">${esc(a.verdict)}</div>${diff ? `<div class="meta">${link(diff.text, 'diff')}${diff.html ? ` · ${link(diff.html, 'html diff')}` : ''}</div>` : ''}</th>${cells}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>reprorom report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}
table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:.4em .6em;vertical-align:top;text-align:left}
td code{font-size:11px;word-break:break-all;display:block;max-width:22em}
td.good{background:#c8f0c8}td.bad{background:#f4b4b4}td.missing{background:#f4b4b4}td.single{background:#fff2b3}
.meta{color:#555;font-size:12px}.verdict{font-weight:600}.verdict.reproducible{color:#176317}.verdict.mismatch,.verdict.missing{color:#a11}
.summary{font-size:1.1em;font-weight:600;margin:1em 0}
</style></head><body>
<h1>reprorom: ${comparison.ok ? 'reproducible' : 'NOT reproducible'}</h1>
<p class="meta">pins: ${pins.map(esc).join('<br>') || '(none recorded)'}<br>images: ${images.map(esc).join('<br>') || '(none recorded)'}</p>
<table id="grid"><thead><tr><th>artifact</th>${head}</tr></thead>
<tbody>
${rows}
</tbody></table>
${comparison.notes.length ? `<ul>${comparison.notes.map((n) => `<li class="meta">${esc(n)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
