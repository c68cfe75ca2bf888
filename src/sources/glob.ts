/**
 * Exclude globs for local sources, gitignore-like:
 * - a pattern without "/" matches a name at any depth (`*.o`, `build`);
 * - a pattern with "/" is anchored at the source root (`docs/*.pdf`, `/out`);
 * - `**` spans folders, `*` and `?` stay inside one name, `[…]` is a class;
 * - a trailing "/" matches folders only.
 */
/** `rel` uses "/" separators and no leading "./". */
export type ExcludeMatcher = (rel: string, isDir: boolean) => boolean;

interface Compiled {
  re: RegExp;
  dirOnly: boolean;
  anchored: boolean;
}

function globToRegExp(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // "**/" matches zero or more folders; a bare "**" matches anything.
        if (glob[i + 2] === '/') {
          out += '(?:[^/]*(?:/|$))*';
          i += 2;
        } else {
          out += '.*';
          i += 1;
        }
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) {
        out += '\\[';
      } else {
        let cls = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        out += `[${cls}]`;
        i = end;
      }
    } else {
      out += c.replace(/[.+^${}()|\\]/g, '\\$&');
    }
  }
  return out;
}

function compile(pattern: string): Compiled {
  let p = pattern.trim();
  const dirOnly = p.endsWith('/');
  if (dirOnly) p = p.slice(0, -1);
  if (p.startsWith('./')) p = p.slice(2);
  const anchored = p.includes('/');
  if (p.startsWith('/')) p = p.slice(1);
  return { re: new RegExp(`^${globToRegExp(p)}$`), dirOnly, anchored };
}

export function excludeMatcher(patterns: readonly string[]): ExcludeMatcher {
  const compiled = patterns.filter((p) => p.trim() !== '').map(compile);
  return (rel, isDir) =>
    compiled.some((c) => {
      if (c.dirOnly && !isDir) return false;
      const subject = c.anchored ? rel : rel.slice(rel.lastIndexOf('/') + 1);
      return c.re.test(subject);
    });
}
