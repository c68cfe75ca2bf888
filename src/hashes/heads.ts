/**
 * Heads' build/x86/<BOARD>/hashes.txt: a `DATE TIME COMMIT clean|dirty` line, then
 * sha256sum lines with absolute or relative paths (they differ between machines),
 * and `-----` separated blocks listing the files inside cpio archives. Artifacts
 * are matched by file name only, as the Heads maintainers do by hand.
 */
import { ConfigError } from '../util/errors.js';
import { baseName } from './artifactPath.js';
import { checkLineCount } from './hashesTxt.js';
import { BadLines, parseSumLine, splitLines } from './sumLine.js';

export interface HeadsHeader {
  date: string;
  commit: string;
  state: 'clean' | 'dirty';
}

export interface HeadsMember {
  path: string;
  sha256: string;
  line: number;
}

export interface HeadsEntry {
  path: string;
  /** File name: the comparison key, since the folders differ between machines. */
  name: string;
  sha256: string;
  line: number;
  /** Files listed inside this archive, when it is a cpio with a `-----` block. */
  members: HeadsMember[];
}

export interface HeadsHashes {
  header: HeadsHeader | undefined;
  entries: HeadsEntry[];
  /** Member blocks that no listed cpio archive could own. */
  orphanMembers: HeadsMember[];
}

const HEADER = /^(\d{4}-\d{2}-\d{2}(?:[ T]\S+)?)\s+(\S+)\s+(clean|dirty)\s*$/;
const SEPARATOR = /^\s*-{3,}\s*$/;
const CPIO = /\.cpio(\.[a-z0-9]+)?$/;

/** True when the text is Heads-style rather than a plain relative sha256sum list. */
export function looksLikeHeads(text: string): boolean {
  const first = /^[ \t]*\S[^\r\n]*/m.exec(text)?.[0];
  if (first === undefined) return false;
  if (HEADER.test(first)) return true;
  // Only the lines holding a telltale are looked at: a million-line reprorom list is not split here.
  return (
    linesWith(text, '---').some((l) => SEPARATOR.test(l)) ||
    [...linesWith(text, '  /'), ...linesWith(text, ' */')].some((l) => /^[0-9a-f]{64} [ *]\//.test(l))
  );
}

/** The lines of `text` that contain `needle` (found with indexOf, each line once). */
function linesWith(text: string, needle: string): string[] {
  const found: string[] = [];
  for (let i = text.indexOf(needle); i >= 0; ) {
    // Walk to the line's ends character by character: lines are short, the text may not be.
    let start = i;
    while (start > 0 && text[start - 1] !== '\n' && text[start - 1] !== '\r') start--;
    let end = i;
    while (end < text.length && text[end] !== '\n' && text[end] !== '\r') end++;
    found.push(text.slice(start, end));
    i = text.indexOf(needle, end);
  }
  return found;
}

export function parseHeadsHashes(text: string, file: string): HeadsHashes {
  const bad = new BadLines(
    file,
    'sha256sum lines, a Heads header ("DATE TIME COMMIT clean|dirty") or "-----"',
  );
  const entries: HeadsEntry[] = [];
  const orphanMembers: HeadsMember[] = [];
  const lines = splitLines(text);
  checkLineCount(lines.length, file);
  // Index of the first entry that may still own a member block: blocks are handed out in order.
  let nextOwner = 0;
  let header: HeadsHeader | undefined;
  let segment: Array<{ path: string; sha256: string; line: number }> = [];
  let segmentIndex = 0;

  const closeSegment = () => {
    const isMemberList =
      segmentIndex > 0 && segment.length > 0 && segment.every((e) => e.path.startsWith('./'));
    if (isMemberList) {
      // Blocks follow the order of the archives they list: give each to the first cpio still without one.
      while (nextOwner < entries.length) {
        const e = entries[nextOwner];
        if (e && CPIO.test(e.name) && e.members.length === 0) break;
        nextOwner++;
      }
      const owner = entries[nextOwner];
      if (owner) owner.members.push(...segment);
      else orphanMembers.push(...segment);
    } else {
      for (const e of segment) entries.push({ ...e, name: baseName(e.path), members: [] });
    }
    segment = [];
    segmentIndex++;
  };

  lines.forEach((text, i) => {
    const line = i + 1;
    if (text.trim() === '') return;
    if (header === undefined && entries.length === 0 && segment.length === 0 && segmentIndex === 0) {
      const m = HEADER.exec(text);
      if (m) {
        header = { date: m[1] ?? '', commit: m[2] ?? '', state: m[3] === 'dirty' ? 'dirty' : 'clean' };
        return;
      }
    }
    if (SEPARATOR.test(text)) {
      closeSegment();
      return;
    }
    const parsed = parseSumLine(text);
    if (!parsed.ok) {
      const hint = line === 1 ? ' (or a header "DATE TIME COMMIT clean|dirty")' : '';
      bad.add({ file, line, col: parsed.col, message: `${parsed.message}${hint}` });
      return;
    }
    bad.ok();
    segment.push({ path: parsed.path, sha256: parsed.sha256, line });
  });
  closeSegment();
  const hint = `fix ${file}: expected a Heads hashes.txt (header line, sha256sum lines, "-----" cpio blocks)`;
  if (entries.length === 0 && bad.count === 0)
    throw new ConfigError(
      [{ file, line: 1, col: 1, message: 'no sha256sum lines found, expected a Heads hashes.txt' }],
      hint,
    );
  bad.throwIfAny(hint);
  return { header, entries, orphanMembers };
}
