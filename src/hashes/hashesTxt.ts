/**
 * reprorom's hashes.txt: exactly what `sha256sum` prints (two spaces, paths relative
 * to the folder holding the file), sorted by path, so `sha256sum -c hashes.txt`
 * verifies a run folder with no reprorom installed.
 */
import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { BuildFailedError, ConfigError, type Problem } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { bytePosition, firstInvalidUtf8 } from '../util/utf8.js';
import { artifactPathProblem, comparePaths } from './artifactPath.js';
import { formatCount, MAX_INPUT_BYTES, maxInputLines } from './limits.js';
import { sha256Problem } from './sha256.js';
import { countLines, forEachLine, parseSumLine, plainSumLinePath } from './sumLine.js';

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
  const problems: Problem[] = [];
  const out: HashLine[] = [];
  const firstLine = new Map<string, number>();
  const count = countLines(text);
  checkLineCount(count, file);
  if (count === 0)
    problems.push({ file, line: 1, col: 1, message: 'file is empty, expected sha256sum lines' });
  forEachLine(text, (start, end, line) => {
    // The usual line is read in place; anything else goes through the full parse, which says what is wrong.
    let raw = plainSumLinePath(text, start, end);
    let path = raw === undefined ? '' : stripDotSlash(raw);
    let sha256 = '';
    if (raw !== undefined && artifactPathProblem(path) === undefined) sha256 = text.slice(start, start + 64);
    else {
      const parsed = parseSumLine(text.slice(start, end));
      if (!parsed.ok) {
        problems.push({ file, line, col: parsed.col, message: parsed.message });
        return;
      }
      raw = parsed.path;
      sha256 = parsed.sha256;
      path = stripDotSlash(raw);
      const why = artifactPathProblem(path);
      if (why) {
        problems.push({ file, line, col: end - start - raw.length + 1, message: why });
        return;
      }
    }
    const col = end - start - raw.length + 1;
    const earlier = firstLine.get(path);
    if (earlier !== undefined) {
      problems.push({
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
  if (problems.length > 0)
    throw new ConfigError(
      problems,
      `fix ${file} or regenerate it (sha256sum format: "<64 hex>  <relative path>")`,
    );
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
  let bytes: Buffer;
  try {
    const handle = await open(path, 'r');
    try {
      // Checked before reading: a hostile input must not take all memory first.
      const { size } = await handle.stat();
      if (size > MAX_INPUT_BYTES)
        throw new ConfigError(
          [
            {
              file: path,
              line: 1,
              col: 1,
              message: `file is ${formatCount(size)} bytes, more than the ${formatCount(MAX_INPUT_BYTES)} bytes an input may have`,
            },
          ],
          'check that this is the right file; split a larger list into several',
        );
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      [
        {
          file: path,
          line: 1,
          col: 1,
          message: code === 'ENOENT' ? 'file not found' : `cannot read: ${code ?? String(err)}`,
        },
      ],
      'check the path',
    );
  }
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
