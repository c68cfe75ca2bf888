/**
 * The rule for artifact paths written in hashes.txt and manifest.json: relative to
 * the folder holding the file, so `sha256sum -c` and compare can never be pointed
 * outside it.
 */
import { relativeNameProblem } from '../archive/containment.js';
import { printable } from '../util/printable.js';

/** Why `path` is not a safe artifact path, or undefined when it is one. */
export function artifactPathProblem(path: string): string | undefined {
  const problem = relativeNameProblem(path, { normalized: true });
  if (problem === 'empty') return 'expected a file path, found an empty one';
  if (problem === 'nul') return 'path contains a NUL byte';
  // Format rules of hashes.txt, before containment: one path a line, and
  // sha256sum escapes names with a backslash; refuse rather than guess.
  if (/[\n\r]/.test(path)) return 'path contains a line break';
  if (path.includes('\\')) return 'path contains a backslash, expected "/" separators';
  const shown = printable(path);
  if (problem === 'absolute') return `path "${shown}" is absolute, expected a path relative to the folder`;
  if (problem === 'parent') return `path "${shown}" contains "..", expected a path inside the folder`;
  if (problem === 'not-normalized')
    return `path "${shown}" has an empty or "." segment, expected a normalized path`;
  return undefined;
}

/**
 * Byte-wise order of the UTF-8 encodings, as `LC_ALL=C sort` gives: the same on every
 * machine and locale. Compared on UTF-16 code units without encoding (a million-path sort
 * must not allocate two buffers per comparison): units order like code points except that
 * surrogates (U+D800–DFFF, the astral code points) must sort after U+E000–FFFF.
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit <= 0xdfff ? unit + 0x2000 : unit - 0x800;
}

/** The last path segment, for matching artifacts whose folders differ between machines. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1) || path;
}
