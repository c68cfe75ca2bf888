/**
 * One `sha256sum` output line: `<64 hex><space><space or *><path>`, or the BSD form
 * `sha256sum --tag` prints, `SHA256 (<path>) = <64 hex>`. Shared by both hashes.txt readers.
 */
import { ConfigError, type Problem } from '../util/errors.js';
import { sha256Problem } from '../util/sha256.js';

export type SumLine =
  | {
      ok: true;
      sha256: string;
      path: string;
      /** 1-based column where the path starts (after the hash, or after `SHA256 (`). */
      pathCol: number;
    }
  | { ok: false; col: number; message: string };

/** `SHA256 (path) = hex`, `sha256sum --tag` and BSD `sha256`; the path runs to the last `) = `. */
const TAG = /^SHA256 \((.+)\) = ([^ ]*)$/;
/** Other algorithms' tag lines: said by name rather than as a bad hash. */
const OTHER_TAG = /^(MD5|SHA1|SHA224|SHA384|SHA512|BLAKE2b(?:-\d+)?|SM3|CRC32?) \(/;

function parseTagLine(line: string): SumLine {
  const m = TAG.exec(line);
  const path = m?.[1];
  const hash = m?.[2];
  if (path === undefined || hash === undefined)
    return {
      ok: false,
      col: 1,
      message: 'expected a "SHA256 (<path>) = <64 hex>" line (sha256sum --tag format)',
    };
  const hashProblem = sha256Problem(hash);
  if (hashProblem)
    return {
      ok: false,
      col: line.length - hash.length + 1,
      message: `sha256 ${quoted(hash)}: ${hashProblem}`,
    };
  return { ok: true, sha256: hash, path, pathCol: 9 };
}

export function parseSumLine(line: string): SumLine {
  const nul = line.indexOf('\0');
  if (nul >= 0) return { ok: false, col: nul + 1, message: 'line contains a NUL byte' };
  if (line.startsWith('SHA256 (')) return parseTagLine(line);
  const other = OTHER_TAG.exec(line);
  if (other)
    return {
      ok: false,
      col: 1,
      message: `${other[1]} tag line: only SHA256 hashes are compared (sha256sum --tag prints "SHA256 (<path>) = <hex>")`,
    };
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
  return { ok: true, sha256: hash, path, pathCol: space + 3 };
}

/** How many bad lines, before any good one, make a file "not a sha256sum file". */
export const NOT_A_SUM_FILE_AFTER = 3;
/** At most this many bad lines are reported one by one; the rest are counted. */
export const MAX_REPORTED_PROBLEMS = 20;

/**
 * The bad lines of a hashes file, kept short: a file whose first lines are all bad is not a
 * sha256sum file at all (README.md, a ROM) and stops with one message, and a file with many bad
 * lines reports the first few and a count, never hundreds of lines.
 */
export class BadLines {
  readonly problems: Problem[] = [];
  private more = 0;
  private firstUnlisted: Problem | undefined;
  private good = 0;
  constructor(
    private readonly file: string,
    private readonly expected = 'sha256sum lines ("<64 hex>  <path>" or "SHA256 (<path>) = <64 hex>")',
  ) {}

  /** A line that parsed. */
  ok(): void {
    this.good++;
  }

  /** A bad line: throws "not a sha256sum file" once the first few lines were all bad. */
  add(problem: Problem): void {
    if (this.problems.length < MAX_REPORTED_PROBLEMS) this.problems.push(problem);
    else {
      this.firstUnlisted ??= problem;
      this.more++;
    }
    if (this.good === 0 && this.problems.length >= NOT_A_SUM_FILE_AFTER) {
      const first = this.problems[0] ?? problem;
      throw new ConfigError(
        [
          {
            file: this.file,
            line: first.line,
            col: first.col,
            message: `this is not a sha256sum file: its first ${NOT_A_SUM_FILE_AFTER} lines are not ${this.expected} (line ${first.line}: ${first.message})`,
          },
        ],
        'pass a hashes.txt written by reprorom, sha256sum or Heads, a manifest.json, or a run folder',
      );
    }
  }

  get count(): number {
    return this.problems.length + this.more;
  }

  /** Throw the problems found, if any (with a count of those not listed). */
  throwIfAny(hint: string): void {
    if (this.problems.length === 0) return;
    const next = this.firstUnlisted;
    const listed =
      next === undefined
        ? this.problems
        : [
            ...this.problems,
            { ...next, message: `${this.more} more bad line(s) from here on, not listed (${next.message})` },
          ];
    throw new ConfigError(listed, hint);
  }
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
  const lines: string[] = [];
  forEachLine(text, (start, end) => {
    lines.push(text.slice(start, end));
  });
  return lines;
}

/**
 * Visit each line of `text` as `[start, end)` offsets and its 1-based number, with the same line
 * ends as splitLines, without making a string per line: a million-line file is walked with
 * indexOf, and a file with no CR (the usual case) never looks for one again.
 */
export function forEachLine(text: string, visit: (start: number, end: number, line: number) => void): number {
  let lf = text.indexOf('\n');
  let cr = text.indexOf('\r');
  let line = 0;
  for (let pos = 0; pos < text.length; ) {
    if (lf >= 0 && lf < pos) lf = text.indexOf('\n', pos);
    if (cr >= 0 && cr < pos) cr = text.indexOf('\r', pos);
    let end = text.length;
    let next = end;
    if (cr >= 0 && (lf < 0 || cr < lf)) {
      end = cr;
      next = cr + 1 === lf ? cr + 2 : cr + 1;
    } else if (lf >= 0) {
      end = lf;
      next = lf + 1;
    }
    visit(pos, end, ++line);
    pos = next;
  }
  return line;
}

/** How many lines forEachLine would visit. */
export function countLines(text: string): number {
  return forEachLine(text, () => {});
}

/**
 * The path of `text[start, end)` when it is a plain `<64 lowercase hex>  <path>` (or ` *<path>`)
 * line, else undefined: then the line needs parseSumLine, which explains what is wrong. Read with
 * charCodeAt, no slice of the line or regex: this runs once per line of a million-line file.
 */
export function plainSumLinePath(text: string, start: number, end: number): string | undefined {
  if (end - start < 67 || text.charCodeAt(start + 64) !== 32) return undefined;
  const mode = text.charCodeAt(start + 65);
  if (mode !== 32 && mode !== 42) return undefined;
  for (let i = start; i < start + 64; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return undefined;
  }
  return text.slice(start + 66, end);
}
