/**
 * Explains why two builds of one artifact differ. With diffoscope on the host, its
 * text and HTML reports are kept; without it, a built-in summary stands in. The text
 * report always starts with the built-in summary, because diffoscope shows unknown
 * binaries as a hexdump, where a version string is split across lines.
 */
import { constants } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { tempSibling, writeFileAtomic } from '../util/atomic.js';
import { runOptionalTool } from '../util/tool.js';
import { builtinCompare, formatBuiltin } from './builtinDiff.js';
import {
  type CpioMemberDiff,
  diffCpio,
  fileHead,
  formatCpioDiff,
  looksLikeCpio,
  MAX_CPIO_BYTES,
  readCpio,
} from './cpio.js';

export interface ExplainSide {
  label: string;
  path: string;
}

export interface Explanation {
  tool: 'diffoscope' | 'builtin';
  differs: boolean;
  /** The kept text report. */
  text: string;
  /** diffoscope's HTML report, when diffoscope ran. */
  html: string | undefined;
  /** A few lines for the terminal. */
  summary: string[];
  /** Why diffoscope was not used or failed, when it was not. */
  note: string | undefined;
  /** When both files are cpio archives (an initrd): the members that differ. */
  members?: CpioMemberDiff[];
  /** Dates and times that changed between the two files (a build time stamp), each side's. */
  stamps?: { a: string[]; b: string[] };
}

export interface ExplainOptions {
  /** Path of diffoscope; `null` forces the built-in summary; undefined looks it up in PATH. */
  diffoscope?: string | null;
  timeoutMs?: number;
  /** Stops diffoscope; the explanation then throws the signal's reason (no half-made report). */
  signal?: AbortSignal;
}

const FIX_DIFFOSCOPE = 'install it: apt-get install -y diffoscope-minimal';
const DIFFOSCOPE_MISSING =
  'diffoscope not found: built-in summary only (install diffoscope or diffoscope-minimal for a full report)';

/** diffoscope's path from PATH, without spawning anything. */
export async function findDiffoscope(pathEnv = process.env['PATH'] ?? ''): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'diffoscope');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** A file name for an artifact key such as `board/bios.bin`. */
export function reportBaseName(artifact: string): string {
  return artifact.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || 'artifact';
}

export async function explainDifference(
  a: ExplainSide,
  b: ExplainSide,
  outDir: string,
  artifact: string,
  opts: ExplainOptions = {},
): Promise<Explanation> {
  await mkdir(outDir, { recursive: true });
  const base = join(outDir, reportBaseName(artifact));
  const textPath = `${base}.txt`;
  const builtin = await builtinCompare(a.path, b.path);
  const members = builtin.identical ? undefined : await cpioMembers(a.path, b.path);
  const builtinLines = formatBuiltin(builtin, a, b);
  // The members first (after the two file lines): the terminal shows only the summary's first lines.
  const summaryLines = members
    ? [...builtinLines.slice(0, 2), ...formatCpioDiff(members.diffs), ...builtinLines.slice(2)]
    : builtinLines;
  const found = { a: builtin.stamps.a.map((x) => x.stamp), b: builtin.stamps.b.map((x) => x.stamp) };
  const memberDiffs = {
    ...(members ? { members: members.diffs } : {}),
    ...(found.a.length > 0 || found.b.length > 0 ? { stamps: found } : {}),
  };
  const header = [`reprorom diff report for ${artifact}`, ...summaryLines];

  const tool = opts.diffoscope === null ? undefined : (opts.diffoscope ?? (await findDiffoscope()));
  let note: string | undefined = tool
    ? undefined
    : opts.diffoscope === null
      ? 'diffoscope not used: built-in summary only'
      : DIFFOSCOPE_MISSING;
  if (tool) {
    const tmpText = tempSibling(textPath);
    const htmlPath = `${base}.html`;
    const tmpHtml = tempSibling(htmlPath);
    try {
      const ran = await runDiffoscope(tool, [tmpText, tmpHtml, a.path, b.path], opts);
      if (typeof ran === 'string') note = ran;
      else {
        const diffoscopeText = await readFile(tmpText, 'utf8').catch(() => '');
        await writeFileAtomic(textPath, `${header.join('\n')}\n\n==== diffoscope ====\n${diffoscopeText}`);
        // diffoscope writes no report at all for identical files.
        const html = await rename(tmpHtml, htmlPath).then(
          () => htmlPath,
          () => undefined,
        );
        return {
          tool: 'diffoscope',
          differs: ran.differs,
          text: textPath,
          html,
          summary: summaryLines,
          note: undefined,
          ...memberDiffs,
        };
      }
    } finally {
      await rm(tmpText, { force: true });
      await rm(tmpHtml, { force: true });
    }
  }
  await writeFileAtomic(textPath, `${[...header, '', `(${note})`].join('\n')}\n`);
  return {
    tool: 'builtin',
    differs: !builtin.identical,
    text: textPath,
    html: undefined,
    summary: summaryLines,
    note,
    ...memberDiffs,
  };
}

/**
 * diffoscope's answer (exit 0: same, 1: different), or why there is none: the note the
 * built-in summary then carries (gone since it was found, failed, timed out).
 */
async function runDiffoscope(
  tool: string,
  [text, html, a, b]: [string, string, string, string],
  opts: ExplainOptions,
): Promise<{ differs: boolean } | string> {
  // Gone since it was found: undefined, as if never found.
  const res = await runOptionalTool(tool, ['--no-progress', '--text', text, '--html', html, a, b], {
    timeoutMs: opts.timeoutMs ?? 20 * 60_000,
    env: { TZ: 'UTC' },
    signal: opts.signal,
    install: FIX_DIFFOSCOPE,
  });
  opts.signal?.throwIfAborted();
  if (res === undefined) return DIFFOSCOPE_MISSING;
  if (res.exitCode === 0 || res.exitCode === 1) return { differs: res.exitCode === 1 };
  const why = (res.stderr || res.killed || '').split('\n').filter(Boolean).slice(-1)[0] ?? '';
  return `diffoscope failed (exit ${res.exitCode ?? 'none'}): ${why}`;
}

/**
 * Both files as cpio archives (newc, maybe gzip-compressed), member by member; undefined when
 * either is not one (or is too large to list), so other artifacts cost two 8-byte reads.
 */
async function cpioMembers(a: string, b: string): Promise<{ diffs: CpioMemberDiff[] } | undefined> {
  const [headA, headB] = await Promise.all([fileHead(a), fileHead(b)]);
  if (!looksLikeCpio(headA) || !looksLikeCpio(headB)) return undefined;
  try {
    const [bytesA, bytesB] = await Promise.all([a, b].map((p) => readBounded(p)));
    if (bytesA === undefined || bytesB === undefined) return undefined;
    return { diffs: diffCpio(readCpio(bytesA), readCpio(bytesB)) };
  } catch {
    // A gzip stream that holds no cpio, or a damaged archive: the byte-level summary stands alone.
    return undefined;
  }
}

async function readBounded(path: string): Promise<Buffer | undefined> {
  return (await stat(path)).size > MAX_CPIO_BYTES ? undefined : readFile(path);
}
