/**
 * What a valid workspace must also get right across files and on disk: every image's
 * pins and every board's image exist, path flakes and local source folders are there.
 * Checked on every load, since folders can change without a file changing.
 */
import { existsSync, lstatSync, realpathSync, type Stats, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { isWithin } from '../archive/containment.js';
import type { Problem } from '../util/errors.js';
import { type ExcludeMatcher, excludeMatcher, LOCAL_SKIP } from '../vocabulary/exclude.js';
import type { WorkspaceKind } from './files.js';
import { parseFlakeRef } from './flakeRef.js';
import type { Board, ImageDef } from './schema.js';
import type { Entry, Located, PathKey, Workspace } from './types.js';

export function located(parsed: Located, path: readonly PathKey[], message: string): Problem {
  const { line, col } = parsed.at(path);
  return { file: parsed.file, line, col, message };
}

/** `invalid`: files that exist but are invalid; `unlisted`: folders that could not be listed. References into either are not reported again. */
export function checkReferences(
  ws: Workspace,
  invalid: Record<WorkspaceKind, Set<string>>,
  unlisted: ReadonlySet<WorkspaceKind>,
): Problem[] {
  const problems: Problem[] = [];
  const ref = (entry: Entry<unknown>, path: PathKey[], kind: 'pins' | 'images', target: string) => {
    if (ws[kind].has(target) || invalid[kind].has(target) || unlisted.has(kind)) return;
    const known = [...ws[kind].keys()];
    const p = located(
      entry.parsed,
      path,
      `${kind.slice(0, -1)} "${target}" does not exist, expected one of: ${known.length ? known.join(', ') : `(none in ${kind}/)`}`,
    );
    problems.push(p);
  };
  let realRoot: string | undefined;
  const rootOnce = () => {
    realRoot ??= realpathOr(ws.root);
    return realRoot;
  };
  problems.push(...flakeFolderProblems(ws, rootOnce));
  for (const image of ws.images.values()) {
    ref(image, ['pin'], 'pins', image.value.pin);
    image.value.extraPins.forEach((extra, i) => {
      ref(image, ['extraPins', i, 'pin'], 'pins', extra.pin);
    });
    const fhs = fhsProblem(image);
    if (fhs) problems.push(fhs);
  }
  for (const board of ws.boards.values()) {
    ref(board, ['image'], 'images', board.value.image);
    const src = board.value.source;
    if (src.type === 'local') {
      const sourceProblems = localSourceProblems(ws.root, rootOnce(), board, src.path);
      problems.push(...sourceProblems);
      if (sourceProblems.length === 0)
        problems.push(...inputPlacementProblems(resolve(ws.root, src.path), board, src.exclude));
    }
    // Only git and Debian sources have a time of their own: anything else would fail at build.
    if (board.value.sourceDateEpoch === 'commit' && (src.type === 'local' || src.type === 'tarball'))
      problems.push(
        located(
          board.parsed,
          ['sourceDateEpoch'],
          `sourceDateEpoch: a ${src.type} source has no commit time, expected a whole number of seconds (or "commit" with a git or debian-source source)`,
        ),
      );
  }
  return problems;
}

/** Path flakes: the folder must hold a flake.nix and stay inside the workspace. */
function flakeFolderProblems(ws: Workspace, realRoot: () => string): Problem[] {
  const problems: Problem[] = [];
  for (const pin of ws.pins.values()) {
    const parsed = parseFlakeRef(pin.value.flake, pin.name);
    if (!parsed.ok || parsed.ref.kind !== 'path') continue;
    const dir = resolve(ws.root, parsed.ref.path);
    // A link (the folder, or one on the way) may lead out: nix would copy a host folder.
    if (existsSync(dir) && !isWithin(realRoot(), realpathOr(dir))) {
      problems.push(
        located(
          pin.parsed,
          ['flake'],
          `flake folder "${parsed.ref.path}" leads outside the workspace through a symbolic link, expected a folder inside the workspace`,
        ),
      );
    } else if (!existsSync(join(dir, 'flake.nix'))) {
      const what = existsSync(dir) ? 'has no flake.nix' : 'does not exist';
      problems.push(
        located(
          pin.parsed,
          ['flake'],
          `flake folder "${parsed.ref.path}" ${what}, expected a folder with flake.nix relative to the workspace`,
        ),
      );
    }
  }
  return problems;
}

/** An image's fhs.package must be one of its packages. */
function fhsProblem(image: Entry<ImageDef>): Problem | undefined {
  const fhs = image.value.fhs;
  if (!fhs) return undefined;
  const all = [...image.value.packages, ...image.value.extraPins.flatMap((e) => e.packages)];
  if (all.includes(fhs.package)) return undefined;
  return located(
    image.parsed,
    ['fhs', 'package'],
    `fhs.package "${fhs.package}" is not in packages, expected one of: ${all.join(', ')}`,
  );
}

function localSourceProblems(root: string, realRoot: string, board: Entry<Board>, path: string): Problem[] {
  const at = (message: string) => [located(board.parsed, ['source', 'path'], message)];
  // An absolute path names one machine's folders: the build would not be the same elsewhere.
  if (isAbsolute(path))
    return at(`source folder "${path}" is an absolute path, expected a folder relative to the workspace`);
  const dir = resolve(root, path);
  // The workspace is what gets pinned and shared: a source beside it would not travel with it.
  if (!isWithin(resolve(root), dir))
    return at(
      `source folder "${path}" is outside the workspace, expected a folder relative to the workspace`,
    );
  let real: string;
  let isDir: boolean;
  try {
    real = realpathSync(dir);
    isDir = statSync(real).isDirectory();
  } catch {
    return at(`source folder "${path}" does not exist, expected a folder relative to the workspace`);
  }
  // A link (the folder itself, or a folder on the way) may lead anywhere: the build would copy host files.
  if (!isWithin(realRoot, real))
    return at(
      `source folder "${path}" leads outside the workspace through a symbolic link, expected a folder inside the workspace`,
    );
  if (!isDir) return at(`source "${path}" is a file, expected a folder relative to the workspace`);
  return [];
}

/**
 * Inputs that would replace a file of a local source, or need one of its files to be a folder:
 * refused here, at the input's position, rather than when the build lays the inputs out (other
 * kinds of source are only known then; runs/inputs.ts checks them). Excluded and skipped paths
 * are not in the copy the build sees, so an input may go there.
 */
function inputPlacementProblems(srcDir: string, board: Entry<Board>, exclude: readonly string[]): Problem[] {
  const excluded = excludeMatcher(exclude);
  const problems: Problem[] = [];
  board.value.inputs.forEach((input, index) => {
    const why = sourceConflict(srcDir, input.path, excluded);
    if (why) problems.push(located(board.parsed, ['inputs', index, 'path'], why));
  });
  return problems;
}

/** Why the source at `srcDir` leaves no room for a file at `path` (normalised), or undefined. */
function sourceConflict(srcDir: string, path: string, excluded: ExcludeMatcher): string | undefined {
  const parts = path.split('/');
  for (let i = 1; i <= parts.length; i++) {
    if (LOCAL_SKIP.has(parts[i - 1] ?? '')) return undefined;
    const rel = parts.slice(0, i).join('/');
    let st: Stats;
    try {
      st = lstatSync(join(srcDir, rel));
    } catch {
      return undefined; // nothing there: the input's place is free
    }
    const isDir = st.isDirectory();
    if (excluded(rel, isDir)) return undefined;
    const what = isDir ? 'folder' : st.isSymbolicLink() ? 'symbolic link' : 'file';
    if (i === parts.length)
      return `input path "${path}" would replace the source's ${what} "${rel}", expected a path the source does not use`;
    if (!isDir)
      return `input path "${path}" needs "${rel}" to be a folder, but the source has a ${what} there, expected a path the source does not use`;
  }
  return undefined;
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
