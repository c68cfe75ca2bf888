/**
 * The rule for artifact paths written in hashes.txt and manifest.json: relative to
 * the folder holding the file, so `sha256sum -c` and compare can never be pointed
 * outside it.
 */

/** Why `path` is not a safe artifact path, or undefined when it is one. */
export function artifactPathProblem(path: string): string | undefined {
  if (path.length === 0) return 'expected a file path, found an empty one';
  if (path.includes('\0')) return 'path contains a NUL byte';
  if (/[\n\r]/.test(path)) return 'path contains a line break';
  // sha256sum escapes such names with a leading backslash; refuse rather than guess.
  if (path.includes('\\')) return 'path contains a backslash, expected "/" separators';
  if (path.startsWith('/')) return `path "${path}" is absolute, expected a path relative to the folder`;
  const parts = path.split('/');
  if (parts.includes('..')) return `path "${path}" contains "..", expected a path inside the folder`;
  if (parts.some((p) => p === '' || p === '.'))
    return `path "${path}" has an empty or "." segment, expected a normalized path`;
  return undefined;
}

/** Byte-wise order, as `LC_ALL=C sort` gives: the same on every machine and locale. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The last path segment, for matching artifacts whose folders differ between machines. */
export function baseName(path: string): string {
  const parts = path.split('/');
  return parts[parts.length - 1] || path;
}
