/** One `sha256sum` output line: `<64 hex><space><space or *><path>`. Shared by both hashes.txt readers. */
import { sha256Problem } from './sha256.js';

export type SumLine =
  | { ok: true; sha256: string; path: string }
  | { ok: false; col: number; message: string };

export function parseSumLine(line: string): SumLine {
  const nul = line.indexOf('\0');
  if (nul >= 0) return { ok: false, col: nul + 1, message: 'line contains a NUL byte' };
  if (line.startsWith('\\')) {
    return {
      ok: false,
      col: 1,
      message: 'escaped file name (leading "\\"), expected a plain path without "\\" or line breaks',
    };
  }
  // The first space or tab (indexOf, not a regex: this runs once per line of a million-line file).
  let space = line.indexOf(' ');
  const tab = line.indexOf('\t');
  if (tab >= 0 && (space < 0 || tab < space)) space = tab;
  const hash = space < 0 ? line : line.slice(0, space);
  const hashProblem = sha256Problem(hash);
  if (hashProblem) return { ok: false, col: 1, message: `sha256 ${quoted(hash)}: ${hashProblem}` };
  // Spreadsheets and awk write tabs; sha256sum -c does not read them, so neither do we, but say so.
  if (line[space] === '\t')
    return {
      ok: false,
      col: space + 1,
      message: 'expected two spaces between the sha256 and the path, found a tab (sha256sum format)',
    };
  const mode = line.slice(space + 1, space + 2);
  if (space < 0 || (mode !== ' ' && mode !== '*')) {
    return {
      ok: false,
      col: space < 0 ? line.length + 1 : space + 2,
      message: 'expected two spaces between the sha256 and the path (sha256sum format)',
    };
  }
  const path = line.slice(space + 2);
  if (path.length === 0) return { ok: false, col: space + 3, message: 'expected a path after the sha256' };
  return { ok: true, sha256: hash, path };
}

/** Quoted and escaped, so control characters in a hostile file never reach the terminal raw. */
function quoted(s: string): string {
  return JSON.stringify(s.length > 20 ? `${s.slice(0, 20)}…` : s);
}

/**
 * Split text into lines without their `\n`, `\r\n` or lone `\r` (old Mac tools), dropping one
 * final empty line. A path can never hold a line break, so a lone CR is always a line end.
 */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
