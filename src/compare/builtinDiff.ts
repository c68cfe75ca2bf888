/**
 * A diff summary that needs no external tool: sizes, the first differing byte, and
 * the printable strings (like `strings -n 6`) found in one file but not the other.
 * Version strings with embedded timestamps or host names show up in that last list.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { differingStamps, type Stamp } from './stamps.js';

const CHUNK = 1024 * 1024;
export const MIN_STRING = 6;
/** Bounds memory on huge files; a ROM has far fewer distinct strings. */
const MAX_STRINGS = 500_000;
const MAX_STRING_LENGTH = 512;

export interface BuiltinSummary {
  sizeA: number;
  sizeB: number;
  identical: boolean;
  /** First offset where the bytes differ (or where the shorter file ends). */
  firstDiff: { offset: number; a: number | undefined; b: number | undefined } | undefined;
  onlyInA: string[];
  onlyInB: string[];
  onlyInACount: number;
  onlyInBCount: number;
  /** Dates and times in the differing strings that changed between the two (a build time stamp). */
  stamps: { a: Stamp[]; b: Stamp[] };
}

const printable = (c: number) => (c >= 0x20 && c <= 0x7e) || c === 0x09;

/** Distinct printable runs of at least `min` characters, in order of first appearance. */
export async function printableStrings(path: string, min = MIN_STRING): Promise<Set<string>> {
  const found = new Set<string>();
  let run: number[] = [];
  const flush = () => {
    if (run.length >= min && found.size < MAX_STRINGS)
      found.add(Buffer.from(run.slice(0, MAX_STRING_LENGTH)).toString('latin1'));
    run = [];
  };
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
    const buf = chunk as Buffer;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i] as number;
      if (printable(c)) run.push(c);
      else if (run.length > 0) flush();
    }
  }
  flush();
  return found;
}

/** Offset of the first differing byte, read in lockstep so neither file is held whole. */
export async function firstDifference(a: string, b: string): Promise<BuiltinSummary['firstDiff']> {
  const [fa, fb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const ba = Buffer.alloc(CHUNK);
    const bb = Buffer.alloc(CHUNK);
    for (let pos = 0; ; pos += CHUNK) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, CHUNK, pos), fb.read(bb, 0, CHUNK, pos)]);
      const n = Math.min(ra.bytesRead, rb.bytesRead);
      if (ba.subarray(0, n).equals(bb.subarray(0, n))) {
        if (ra.bytesRead === rb.bytesRead) {
          if (n === 0) return undefined;
          continue;
        }
        return {
          offset: pos + n,
          a: ra.bytesRead > n ? ba[n] : undefined,
          b: rb.bytesRead > n ? bb[n] : undefined,
        };
      }
      for (let i = 0; i < n; i++) {
        if (ba[i] !== bb[i]) return { offset: pos + i, a: ba[i], b: bb[i] };
      }
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

export async function builtinCompare(a: string, b: string, limit = 40): Promise<BuiltinSummary> {
  const [sa, sb, firstDiff, strA, strB] = await Promise.all([
    stat(a),
    stat(b),
    firstDifference(a, b),
    printableStrings(a),
    printableStrings(b),
  ]);
  // Longest first: version strings and paths tell more than short runs of code bytes.
  const byLength = (x: string, y: string) => y.length - x.length || (x < y ? -1 : x > y ? 1 : 0);
  const onlyA = [...strA].filter((s) => !strB.has(s)).sort(byLength);
  const onlyB = [...strB].filter((s) => !strA.has(s)).sort(byLength);
  return {
    sizeA: sa.size,
    sizeB: sb.size,
    identical: firstDiff === undefined,
    firstDiff,
    onlyInA: onlyA.slice(0, limit),
    onlyInB: onlyB.slice(0, limit),
    onlyInACount: onlyA.length,
    onlyInBCount: onlyB.length,
    stamps: differingStamps(onlyA, onlyB),
  };
}

const hex = (n: number | undefined) =>
  n === undefined ? 'end of file' : `0x${n.toString(16).padStart(2, '0')}`;

/** The summary as report lines; `A`/`B` are the two inputs' labels. */
export function formatBuiltin(
  s: BuiltinSummary,
  a: { label: string; path: string },
  b: { label: string; path: string },
): string[] {
  const lines = [
    `A: ${a.label}  ${a.path}  (${s.sizeA} bytes)`,
    `B: ${b.label}  ${b.path}  (${s.sizeB} bytes)`,
  ];
  if (s.identical) return [...lines, 'the files are identical'];
  if (s.sizeA !== s.sizeB) lines.push(`sizes differ by ${s.sizeB - s.sizeA} bytes`);
  if (s.firstDiff)
    lines.push(
      `first difference at offset ${s.firstDiff.offset} (0x${s.firstDiff.offset.toString(16)}): A has ${hex(s.firstDiff.a)}, B has ${hex(s.firstDiff.b)}`,
    );
  // Before the long lists: the terminal shows only a summary's first lines.
  if (s.stamps.a.length > 0 || s.stamps.b.length > 0) {
    lines.push('a date or time differs (a build time stamp):');
    const holders = (stamps: readonly Stamp[]) => [...new Set(stamps.map((x) => x.in))].slice(0, 3);
    for (const x of holders(s.stamps.a)) lines.push(`  A: ${JSON.stringify(x)}`);
    for (const x of holders(s.stamps.b)) lines.push(`  B: ${JSON.stringify(x)}`);
  }
  const list = (title: string, items: string[], total: number) => {
    lines.push(`${title} (${total}${total > items.length ? `, first ${items.length} shown` : ''}):`);
    for (const item of items) lines.push(`  ${JSON.stringify(item)}`);
  };
  list('strings only in A', s.onlyInA, s.onlyInACount);
  list('strings only in B', s.onlyInB, s.onlyInBCount);
  return lines;
}
