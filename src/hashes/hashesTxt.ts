/**
 * reprorom's hashes.txt: exactly what `sha256sum` prints (two spaces, paths relative
 * to the folder holding the file), sorted by path, so `sha256sum -c hashes.txt`
 * verifies a run folder with no reprorom installed.
 */
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { BuildFailedError, ConfigError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { IrregularFileError, readRegularFile } from '../util/regularFile.js';
import { sha256Problem } from '../util/sha256.js';
import { bytePosition, firstInvalidUtf8 } from '../util/utf8.js';
import { artifactPathProblem, comparePaths } from './artifactPath.js';
import { formatCount, MAX_INPUT_BYTES, maxInputLines } from './limits.js';
import { BadLines, countLines, forEachLine, parseSumLine, plainSumLinePath } from './sumLine.js';

export const HASHES_FILE = 'hashes.txt';

export interface HashedFile {
  path: string;
  sha256: string;
}

export interface HashLine extends HashedFile {
  /** 1-based line in the file it was read from. */
  line: number;
}

export function formatHashesTxt(artifacts: readonly HashedFile[]): string {
  const seen = new Set<string>();
  for (const a of artifacts) {
    const why = artifactPathProblem(a.path) ?? sha256Problem(a.sha256);
    if (why)
      throw new BuildFailedError(
        `cannot write ${HASHES_FILE}: artifact "${a.path}": ${why}`,
        'artifact paths must be relative to the run folder',
      );
    if (seen.has(a.path))
      throw new BuildFailedError(
        `cannot write ${HASHES_FILE}: artifact "${a.path}" is listed twice`,
        'each artifact must be hashed once',
      );
    seen.add(a.path);
  }
  const sorted = [...artifacts].sort((a, b) => comparePaths(a.path, b.path));
  return sorted.map((a) => `${a.sha256}  ${a.path}\n`).join('');
}

/** Write `dir/hashes.txt` atomically; returns its path. */
export async function writeHashesTxt(dir: string, artifacts: readonly HashedFile[]): Promise<string> {
  const path = join(dir, HASHES_FILE);
  await writeFileAtomic(path, formatHashesTxt(artifacts));
  return path;
}

/** Parse reprorom's (strict sha256sum) format; every bad line becomes a located problem. */
export function parseHashesTxt(text: string, file: string): HashLine[] {
  const bad = new BadLines(file);
  const out: HashLine[] = [];
  let firstLine: Map<string, number> | undefined;
  let previous: string | undefined;
  const count = countLines(text);
  checkLineCount(count, file);
  if (count === 0) bad.add({ file, line: 1, col: 1, message: 'file is empty, expected sha256sum lines' });
  forEachLine(text, (start, end, line) => {
    // The usual line is read in place; anything else goes through the full parse, which says what is wrong.
    let raw = plainSumLinePath(text, start, end);
    let path = raw === undefined ? '' : stripDotSlash(raw);
    let sha256 = '';
    let col = 67;
    if (raw !== undefined && artifactPathProblem(path) === undefined) sha256 = text.slice(start, start + 64);
    else {
      const parsed = parseSumLine(text.slice(start, end));
      if (!parsed.ok) {
        bad.add({ file, line, col: parsed.col, message: parsed.message });
        return;
      }
      raw = parsed.path;
      sha256 = parsed.sha256;
      col = parsed.pathCol;
      path = stripDotSlash(raw);
      const why = artifactPathProblem(path);
      if (why) {
        bad.add({ file, line, col, message: why });
        return;
      }
    }
    bad.ok();
    // Lines in strictly rising order (what reprorom and `sort` write) cannot repeat a path: the map
    // of first lines, a million entries, is built only once a line comes out of order.
    if (firstLine === undefined) {
      if (previous === undefined || previous < path) {
        previous = path;
        out.push({ path, sha256, line });
        return;
      }
      firstLine = new Map(out.map((l) => [l.path, l.line]));
    }
    const earlier = firstLine.get(path);
    if (earlier !== undefined) {
      bad.add({
        file,
        line,
        col,
        message: `duplicate path "${printable(path)}" (first on line ${earlier})`,
      });
      return;
    }
    firstLine.set(path, line);
    out.push({ path, sha256, line });
  });
  bad.throwIfAny(`fix ${file} or regenerate it (sha256sum format: "<64 hex>  <relative path>")`);
  return out;
}

/** `sha256sum ./bios.bin` prints "./bios.bin", and `sha256sum -c` reads it: the same path as "bios.bin". */
const stripDotSlash = (path: string) => (path.startsWith('./') ? path.replace(/^(\.\/)+(?=.)/, '') : path);

/** Refuse a hashes file longer than the cap, located at the first line past it. */
export function checkLineCount(count: number, file: string): void {
  const cap = maxInputLines();
  if (count > cap)
    throw new ConfigError(
      [
        {
          file,
          line: cap + 1,
          col: 1,
          message: `more than ${formatCount(cap)} lines (${formatCount(count)}): too large to compare`,
        },
      ],
      'split the list, or raise the cap with REPROROM_MAX_INPUT_LINES if this machine has the memory for it',
    );
}

export async function readHashesTxt(path: string): Promise<HashLine[]> {
  return parseHashesTxt(await readText(path), path);
}

/** Read a UTF-8 text file, turning "not there" or "not text" into a located ConfigError, never a stack trace. */
export async function readText(path: string): Promise<string> {
  return decodeText(await readBytes(path), path);
}

/**
 * Read a file's bytes under the size cap, turning "not there" into a located ConfigError.
 * Only a regular file (a link to one is followed) is opened: a FIFO would block for ever
 * and /dev/zero never ends.
 */
export async function readBytes(path: string): Promise<Buffer> {
  try {
    return await readRegularFile(path, { followLinks: true, max: MAX_INPUT_BYTES });
  } catch (err) {
    if (err instanceof IrregularFileError && err.tooLarge !== undefined) throw tooLarge(path, err.tooLarge);
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      err instanceof IrregularFileError
        ? err.what === 'does not exist'
          ? 'file not found'
          : `cannot read: this file ${err.what}, expected a regular file`
        : `cannot read: ${code ?? String(err)}`;
    throw new ConfigError([{ file: path, line: 1, col: 1, message }], 'check the path');
  }
}

/** The name standard input is shown by in messages (`compare -`). */
export const STDIN_NAME = '(stdin)';

function tooLarge(file: string, size: number): ConfigError {
  return new ConfigError(
    [
      {
        file,
        line: 1,
        col: 1,
        message: `input is ${formatCount(size)} bytes or more, more than the ${formatCount(MAX_INPUT_BYTES)} bytes an input may have`,
      },
    ],
    'check that this is the right file; split a larger list into several',
  );
}

/** Standard input as UTF-8 text (`compare -`), under the same size cap as a file. */
export async function readStdinText(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    // Stopped as soon as the cap is passed: a hostile pipe must not take all memory first.
    if (size > MAX_INPUT_BYTES) throw tooLarge(STDIN_NAME, size);
    chunks.push(buf);
  }
  return decodeText(Buffer.concat(chunks, size), STDIN_NAME);
}

/** Bytes as UTF-8 text, or a located ConfigError at the first byte that is not UTF-8. */
export function decodeText(bytes: Buffer, path: string): string {
  // isUtf8 is native and fast; the walk that finds the bad byte runs only on a bad file.
  const bad = isUtf8(bytes) ? undefined : firstInvalidUtf8(bytes);
  if (bad !== undefined) {
    const at = bytePosition(bytes, bad);
    throw new ConfigError(
      [{ file: path, line: at.line, col: at.col, message: 'file is not valid UTF-8, expected UTF-8 text' }],
      'check that this is the right file (a hashes.txt or manifest.json written by reprorom or sha256sum)',
    );
  }
  return bytes.toString('utf8');
}
