/**
 * Derive `deb-src` entries from the machine's own apt sources, at run time,
 * so the repository never names a mirror host. Pure functions over the text
 * of /etc/apt/sources.list (one-line format) and sources.list.d/*.sources (deb822).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface Stanza {
  fields: Array<[string, string]>;
}

function parseDeb822(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let cur: Array<[string, string]> = [];
  const flush = (): void => {
    if (cur.length > 0) stanzas.push({ fields: cur });
    cur = [];
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (line.startsWith('#')) continue;
    const last = cur[cur.length - 1];
    if (/^[ \t]/.test(line) && last) {
      last[1] += `\n${line}`; // continuation (multi-line Signed-By keys)
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) cur.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  flush();
  return stanzas;
}

function field(s: Stanza, name: string): string | undefined {
  return s.fields.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

/** deb822 stanzas of binary sources, rewritten as `Types: deb-src` (other fields kept, except Architectures). */
export function debSrcFromDeb822(text: string): string[] {
  const out: string[] = [];
  for (const s of parseDeb822(text)) {
    const types = (field(s, 'Types') ?? '').split(/\s+/);
    if (!types.includes('deb') && !types.includes('deb-src')) continue;
    if (/^(no|false|0)$/i.test(field(s, 'Enabled') ?? 'yes')) continue;
    const lines = ['Types: deb-src'];
    for (const [k, v] of s.fields) {
      const key = k.toLowerCase();
      if (key === 'types' || key === 'architectures' || key === 'enabled') continue;
      lines.push(`${k}: ${v}`);
    }
    out.push(lines.join('\n'));
  }
  return out;
}

/** One-line `deb [opts] uri suite comps…` entries rewritten as `deb-src …` (arch= options dropped). */
export function debSrcFromOneLine(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(.+)$/.exec(line);
    if (!m) continue;
    const opts = (m[2] ?? '').split(/\s+/).filter((o) => o !== '' && !/^arch(-|\+)?=/.test(o));
    out.push(`deb-src ${opts.length ? `[${opts.join(' ')}] ` : ''}${m[3]}`);
  }
  return out;
}

export interface HostAptSources {
  /** Content of a deb822 `.sources` file with only deb-src stanzas. */
  deb822: string;
  /** Content of a one-line `.list` file with only deb-src lines. */
  oneLine: string;
  /** How many entries were found. */
  count: number;
}

/** Read the host's apt sources (both formats) and return deb-src equivalents, deduplicated. */
export async function hostDebSrc(etcApt = '/etc/apt'): Promise<HostAptSources> {
  const deb822: string[] = [];
  const oneLine: string[] = [];
  const read = async (p: string): Promise<string> => readFile(p, 'utf8').catch(() => '');
  oneLine.push(...debSrcFromOneLine(await read(join(etcApt, 'sources.list'))));
  const partsDir = join(etcApt, 'sources.list.d');
  const names = (await readdir(partsDir).catch(() => [] as string[])).sort();
  for (const name of names) {
    // apt itself reads only these two suffixes; "*.disabled" and friends are ignored the same way.
    if (name.endsWith('.sources')) deb822.push(...debSrcFromDeb822(await read(join(partsDir, name))));
    else if (name.endsWith('.list')) oneLine.push(...debSrcFromOneLine(await read(join(partsDir, name))));
  }
  const uniq = <T>(xs: T[]): T[] => [...new Set(xs)];
  const d = uniq(deb822);
  const o = uniq(oneLine);
  return {
    deb822: d.length ? `${d.join('\n\n')}\n` : '',
    oneLine: o.length ? `${o.join('\n')}\n` : '',
    count: d.length + o.length,
  };
}
