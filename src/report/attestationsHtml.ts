/**
 * The history of rebuild attestations as one self-contained HTML page (inline CSS, no
 * scripts, nothing external): per release and ROM, each trusted rebuilder's verdict (same
 * bytes, other bytes, failed) and when, newest first; the attestations not shown, with why.
 * Every value from an attestation is escaped: the page is made of what strangers signed.
 */
import { esc } from './html.js';

/** The history as attest/history.ts makes it (plain values: report/ does not import attest/). */
export interface AttestationHistoryView {
  trusted: string[];
  releases: Array<{
    manifestSha256: string;
    roms: Array<{
      rom: string;
      expected: string;
      rebuilds: Array<{ builderId: string; time: string; verdict: string; rebuilt: string | null }>;
    }>;
  }>;
  notShown: Array<{ file: string; reason: string }>;
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}code{font-size:.85em}
.same{background:#d7f5d7}.different{background:#f8c9c9;font-weight:bold}.failed{background:#f3e3b5}`;

export function renderAttestationHistory(h: AttestationHistoryView): string {
  const parts: string[] = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>reprorom: rebuild attestations</title>',
    `<style>${STYLE}</style></head><body>`,
    '<h1>Rebuild attestations</h1>',
    `<p>Trusted rebuilders: ${h.trusted.map((t) => `<code>${esc(t)}</code>`).join(', ')}. Only attestations signed by the key trusted for their builder id are shown.</p>`,
  ];
  if (h.releases.length === 0) parts.push('<p>No attestation by a trusted rebuilder.</p>');
  for (const r of h.releases) {
    parts.push(`<h2>Release <code>${esc(r.manifestSha256)}</code></h2>`);
    parts.push(
      '<table><tr><th>ROM</th><th>rebuilder</th><th>verdict</th><th>when</th><th>sha256 rebuilt</th></tr>',
    );
    for (const rom of r.roms) {
      const span = Math.max(rom.rebuilds.length, 1);
      const head = `<td rowspan="${span}"><code>${esc(rom.rom)}</code><br>release: <code>${esc(rom.expected)}</code></td>`;
      rom.rebuilds.forEach((b, i) => {
        parts.push(
          `<tr>${i === 0 ? head : ''}<td>${esc(b.builderId)}</td><td class="${esc(b.verdict)}">${esc(b.verdict === 'different' ? 'DIFFERENT bytes' : b.verdict === 'same' ? 'same bytes' : 'failed')}</td><td>${esc(b.time)}</td><td><code>${esc(b.rebuilt ?? '')}</code></td></tr>`,
        );
      });
    }
    parts.push('</table>');
  }
  if (h.notShown.length > 0) {
    parts.push('<h2>Not shown</h2><table><tr><th>file</th><th>why</th></tr>');
    for (const n of h.notShown)
      parts.push(`<tr><td><code>${esc(n.file)}</code></td><td>${esc(n.reason)}</td></tr>`);
    parts.push('</table>');
  }
  parts.push('</body></html>', '');
  return parts.join('\n');
}
