/**
 * Exclude globs for local sources, with gitignore's semantics (the `ignore`
 * package, as git's own wildmatch): a pattern without "/" matches a name at any
 * depth, one with "/" is anchored at the source root, `**` spans folders, a
 * trailing "/" matches folders only, `\*` is a literal star, and `!pattern`
 * re-includes what an earlier pattern excluded (not inside an excluded folder).
 */
import ignore from 'ignore';

/** Never copied from a local folder: VCS data, reprorom's own state, JS dependencies. */
export const LOCAL_SKIP: ReadonlySet<string> = new Set(['.git', '.reprorom', 'node_modules']);

/** `rel` uses "/" separators and no leading "./". */
export type ExcludeMatcher = (rel: string, isDir: boolean) => boolean;

export function excludeMatcher(patterns: readonly string[]): ExcludeMatcher {
  const ig = ignore().add(patterns.map((p) => p.trim().replace(/^\.\//, '')));
  return (rel, isDir) => ig.ignores(isDir ? `${rel}/` : rel);
}

/**
 * Why `pattern` can never match (git quietly matches nothing), or undefined:
 * a range out of order (`[z-a]`) or a class that is never closed.
 */
export function excludePatternProblem(pattern: string): string | undefined {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '[') {
      const end = classEnd(pattern, i);
      if (typeof end === 'string') return end;
      i = end;
    }
  }
  return undefined;
}

/** Index of the "]" closing the class opened at `open`, or the problem with it. */
function classEnd(p: string, open: number): number | string {
  let i = open + 1;
  if (p[i] === '!' || p[i] === '^') i++;
  let first = true;
  let prev: string | undefined;
  for (; i < p.length; i++, first = false) {
    let c = p[i] as string;
    if (c === ']' && !first) return i;
    if (c === '[' && p[i + 1] === ':') {
      const close = p.indexOf(':]', i + 2);
      if (close !== -1) {
        i = close + 1;
        prev = undefined;
        continue;
      }
    }
    if (c === '\\' && i + 1 < p.length) c = p[++i] as string;
    else if (c === '-' && prev !== undefined && i + 1 < p.length && p[i + 1] !== ']') {
      let to = p[++i] as string;
      if (to === '\\' && i + 1 < p.length) to = p[++i] as string;
      if (prev > to) return `the range "${prev}-${to}" is out of order, so the pattern can never match`;
      prev = undefined;
      continue;
    }
    prev = c;
  }
  return `the "[" at column ${open + 1} opens a class that is never closed (write "\\[" for a literal "[")`;
}
