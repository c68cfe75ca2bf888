/**
 * The git state of a `local` source: the commit of the checkout holding it, where the
 * folder sits in that checkout, and whether the tree reprorom copies is exactly what
 * that commit holds. "Dirty" means a verifier who checks out the commit would not get
 * the same tree: a file of the tree that is modified, staged, deleted, untracked or
 * ignored (an ignored file is still copied unless the board excludes it). What the tree
 * never takes (`.git`, `.reprorom`, `node_modules`, the board's `source.exclude`) does
 * not count.
 */
import { relative, sep } from 'node:path';
import { EnvironmentError } from '../util/errors.js';
import type { ExcludeMatcher } from '../vocabulary/exclude.js';
import { git } from './git.js';

export interface LocalGitState {
  /** `git rev-parse HEAD` of the checkout holding the folder. */
  commit: string;
  /** The folder relative to the checkout's top ("." for the top itself), with "/". */
  path: string;
  /** Whether the copied tree differs from what the commit holds. */
  dirty: boolean;
  /** Up to 10 paths (relative to the folder) that make it dirty. */
  changes: string[];
}

/** Porcelain v1 `-z` records: "XY path", a rename adds its old path as one more record. */
function statusPaths(out: string): string[] {
  const records = out.split('\0').filter((r) => r !== '');
  const paths: string[] = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as string;
    const xy = r.slice(0, 2);
    paths.push(r.slice(3));
    if (xy.includes('R') || xy.includes('C')) {
      const from = records[i + 1];
      if (from !== undefined) paths.push(from);
      i++;
    }
  }
  return paths;
}

/** Whether the tree walk (see tree.ts) would take `rel` (relative to the folder, "/" separated). */
function inTree(rel: string, skipNames: ReadonlySet<string>, exclude?: ExcludeMatcher): boolean {
  const isDir = rel.endsWith('/');
  const parts = rel.replace(/\/$/, '').split('/');
  for (let i = 0; i < parts.length; i++) {
    if (skipNames.has(parts[i] as string)) return false;
    const prefix = parts.slice(0, i + 1).join('/');
    if (exclude?.(prefix, i < parts.length - 1 || isDir)) return false;
  }
  return true;
}

/**
 * The git state of folder `root`, or undefined when it is not inside a git checkout
 * (or git is not installed: then no commit can be named either).
 */
export async function localGitState(
  root: string,
  opts: { skipNames: ReadonlySet<string>; exclude?: ExcludeMatcher; signal?: AbortSignal },
): Promise<LocalGitState | undefined> {
  let top: string;
  let commit: string;
  try {
    top = await git(['-C', root, 'rev-parse', '--show-toplevel'], { signal: opts.signal });
    commit = await git(['-C', root, 'rev-parse', '--verify', 'HEAD^{commit}'], { signal: opts.signal });
  } catch (err) {
    if (err instanceof EnvironmentError || opts.signal?.aborted) return undefined;
    return undefined;
  }
  // Porcelain paths are relative to the top of the checkout.
  const status = await git(
    ['-C', root, 'status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignored=matching', '--', '.'],
    { signal: opts.signal },
  );
  const path = relative(top, root).split(sep).join('/') || '.';
  const prefix = path === '.' ? '' : `${path}/`;
  const changes = statusPaths(status)
    .filter((p) => p.startsWith(prefix))
    .map((p) => p.slice(prefix.length))
    .filter((p) => p !== '' && inTree(p, opts.skipNames, opts.exclude))
    .sort();
  return { commit, path, dirty: changes.length > 0, changes: changes.slice(0, 10) };
}
