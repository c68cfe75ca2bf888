/**
 * The one path-containment check. Every name that comes from outside (an archive
 * entry, an artifact path in hashes.txt or manifest.json, a layer entry, a symlink
 * target in a source tree) is placed under its folder here, or refused here.
 * Names are POSIX: "/" separates, and a "\" is refused where it would make a
 * ".." on another system (`..\x`).
 */
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';

/** Why a name cannot be placed under a folder. Callers phrase it for their format. */
export type NameProblem = 'empty' | 'nul' | 'absolute' | 'parent' | 'not-normalized';

export interface NameCheckOptions {
  /**
   * Refuse empty and "." segments ("a//b", "./a", "a/"): for names that are
   * compared as written (hashes.txt, layer entries). Archive entries are lenient.
   */
  normalized?: boolean;
}

export type PlacedName = { ok: true; parts: string[] } | { ok: false; problem: NameProblem };

/** The checked segments of a relative name (none for "." or ""), or why it is refused. */
export function checkRelativeName(name: string, opts: NameCheckOptions = {}): PlacedName {
  if (plainRelative(name)) return { ok: true, parts: name.split('/') };
  if (name === '') return opts.normalized ? { ok: false, problem: 'empty' } : { ok: true, parts: [] };
  if (name.includes('\0')) return { ok: false, problem: 'nul' };
  if (name.startsWith('/')) return { ok: false, problem: 'absolute' };
  const raw = name.split('/');
  // A backslash is an ordinary character here, but a separator elsewhere: `..\x` is refused too.
  if (raw.some((p) => p.split('\\').includes('..'))) return { ok: false, problem: 'parent' };
  if (opts.normalized && raw.some((p) => p === '' || p === '.'))
    return { ok: false, problem: 'not-normalized' };
  return { ok: true, parts: raw.filter((p) => p !== '' && p !== '.') };
}

/** Why a relative name is refused, without splitting it when it is plain (a million hashes.txt lines are checked). */
export function relativeNameProblem(name: string, opts: NameCheckOptions = {}): NameProblem | undefined {
  if (plainRelative(name)) return undefined;
  const checked = checkRelativeName(name, opts);
  return checked.ok ? undefined : checked.problem;
}

/** The fast yes for the usual name: nothing to refuse or normalize in it. */
function plainRelative(name: string): boolean {
  return (
    name.length > 0 &&
    name[0] !== '/' &&
    !name.includes('\0') &&
    !name.includes('\\') &&
    !name.includes('//') &&
    !name.includes('/./') &&
    !name.includes('/../') &&
    !name.startsWith('./') &&
    !name.startsWith('../') &&
    !name.endsWith('/') &&
    !name.endsWith('/.') &&
    !name.endsWith('/..') &&
    name !== '.' &&
    name !== '..'
  );
}

/** Default wording of a problem, for messages that need no format-specific one. */
export function describeNameProblem(problem: NameProblem): string {
  switch (problem) {
    case 'empty':
      return 'the name is empty';
    case 'nul':
      return 'the name contains a NUL byte';
    case 'absolute':
      return 'the name is absolute';
    case 'parent':
      return 'the name contains ".."';
    case 'not-normalized':
      return 'the name has an empty or "." segment';
  }
}

/** True when the absolute `path` is `root` or lies below it (both already resolved). */
export function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Where the relative `name` lands under `root`, or undefined when it is refused. */
export function safeJoin(root: string, name: string): string | undefined {
  const checked = checkRelativeName(name);
  if (!checked.ok) return undefined;
  const absRoot = resolve(root);
  const target = join(absRoot, ...checked.parts);
  return isWithin(absRoot, target) ? target : undefined;
}

/** How many symlinks one resolution may follow, as the kernel's ELOOP limit. */
const MAX_LINKS = 40;

/**
 * True when a symlink at `linkRel` (a checked relative name) pointing to `target`
 * resolves inside the folder. `links` are the symlinks already in the folder
 * (relative name → target), followed as the kernel would: `s -> .` then
 * `t -> s/../x` escapes although it reads as `x`.
 */
export function linkStaysInside(
  linkRel: string,
  target: string,
  links: ReadonlyMap<string, string> = new Map(),
): boolean {
  if (target === '' || target.includes('\0') || target.startsWith('/')) return false;
  const at = posix.dirname(linkRel);
  let followed = 0;
  const walk = (base: string[], path: string): string[] | undefined => {
    const out = [...base];
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (out.length === 0) return undefined;
        out.pop();
        continue;
      }
      out.push(part);
      const via = links.get(out.join('/'));
      if (via === undefined) continue;
      if (via.startsWith('/') || ++followed > MAX_LINKS) return undefined;
      const resolved = walk(out.slice(0, -1), via);
      if (!resolved) return undefined;
      out.splice(0, out.length, ...resolved);
    }
    return out;
  };
  return walk(at === '.' ? [] : at.split('/'), target) !== undefined;
}

/** The first symlink among `rel`'s parent folders, if any: writing `rel` would go through it. */
export function linkAbove(
  rel: string,
  links: ReadonlySet<string> | ReadonlyMap<string, string>,
): string | undefined {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (links.has(prefix)) return prefix;
  }
  return undefined;
}
