/**
 * `file:` URLs in boards (url inputs, tarball sources) at `check` time: only a local file
 * inside the workspace may be named. A URL arriving in a pull request must not make a
 * build read, hash or probe a host file (/etc/shadow): one outside the workspace, with a
 * host, or with an encoded "/" is refused here, located, before anything reads it.
 * The download refuses the same again (sources/download.ts).
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { isWithin } from '../archive/containment.js';
import type { Problem } from '../util/errors.js';
import { fileUrlPath } from '../util/fileUrl.js';
import { printable } from '../util/printable.js';
import { located } from './references.js';
import type { Workspace } from './types.js';

const HINT = 'expected a file inside the workspace (file:///path/inside/the/workspace), or an https: URL';

/** Why a `file:` URL may not be used in workspace `root`, or undefined when it may (or is not a file: URL). */
export function fileUrlProblem(url: string, root: string): string | undefined {
  if (!/^file:/i.test(url)) return undefined;
  const local = fileUrlPath(url);
  if (!local.ok) return `url ${printable(url)} ${local.problem}`;
  const absRoot = resolve(root);
  const outside = `url ${printable(url)} names a file outside the workspace, ${HINT}`;
  // Lexically first: a path outside is refused without touching it.
  if (!isWithin(absRoot, resolve(local.path))) return outside;
  let real: string;
  try {
    real = realpathSync(local.path);
  } catch {
    return undefined; // not there yet: the download says so
  }
  const realRoot = (() => {
    try {
      return realpathSync(absRoot);
    } catch {
      return absRoot;
    }
  })();
  return isWithin(realRoot, real)
    ? undefined
    : `url ${printable(url)} leads outside the workspace through a symbolic link, ${HINT}`;
}

export function fileUrlProblems(ws: Workspace): Problem[] {
  const problems: Problem[] = [];
  for (const board of ws.boards.values()) {
    const src = board.value.source;
    if (src.type === 'tarball') {
      const p = fileUrlProblem(src.url, ws.root);
      if (p) problems.push(located(board.parsed, ['source', 'url'], p));
    }
    board.value.inputs.forEach((input, index) => {
      if (input.type !== 'url') return;
      const p = fileUrlProblem(input.url, ws.root);
      if (p) problems.push(located(board.parsed, ['inputs', index, 'url'], p));
    });
  }
  return problems;
}
