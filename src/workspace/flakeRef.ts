/** Parses a pin's flake reference and decides whether it is locked to a commit or to content. */

export type FlakeRef =
  | { kind: 'github'; owner: string; repo: string; rev: string; url: string }
  | { kind: 'git'; url: string; rev: string }
  | { kind: 'path'; path: string; url: string }
  | { kind: 'tarball'; url: string };

export type FlakeRefResult = { ok: true; ref: FlakeRef } | { ok: false; message: string };

const COMMIT = /^[0-9a-f]{40}$/;

export function parseFlakeRef(input: string): FlakeRefResult {
  if (input.startsWith('github:')) {
    const [location = '', query = ''] = input.slice('github:'.length).split('?', 2);
    const parts = location.split('/');
    const params = new URLSearchParams(query);
    const [owner, repo, ref] = parts;
    if (!owner || !repo || parts.length > 3) {
      return {
        ok: false,
        message: `flake reference "${input}" is malformed, expected github:OWNER/REPO/COMMIT`,
      };
    }
    const rev = params.get('rev') ?? ref;
    if (rev === undefined) {
      return {
        ok: false,
        message: `flake reference "${input}" names no commit, expected github:${owner}/${repo}/<40-hex commit> (run \`reprorom pin lock NAME --ref ${input}\`)`,
      };
    }
    if (!COMMIT.test(rev)) {
      return {
        ok: false,
        message: `flake reference "${input}" points at the branch or tag "${rev}", expected a 40-hex commit (run \`reprorom pin lock NAME --ref ${input}\`)`,
      };
    }
    return { ok: true, ref: { kind: 'github', owner, repo, rev, url: `github:${owner}/${repo}/${rev}` } };
  }
  if (input.startsWith('git+')) {
    const q = input.indexOf('?');
    const rev = q >= 0 ? new URLSearchParams(input.slice(q + 1)).get('rev') : null;
    if (rev === null || !COMMIT.test(rev)) {
      return {
        ok: false,
        message: `flake reference "${input}" has no ?rev=<40-hex commit>, expected a git reference locked to a commit`,
      };
    }
    return { ok: true, ref: { kind: 'git', url: input, rev } };
  }
  if (input.startsWith('path:') || input.startsWith('./') || input.startsWith('../')) {
    const path = input.startsWith('path:') ? input.slice('path:'.length) : input;
    if (path.startsWith('/')) {
      return {
        ok: false,
        message: `flake reference "${input}" is an absolute path, expected a path relative to the workspace (path:./DIR)`,
      };
    }
    return { ok: true, ref: { kind: 'path', path, url: `path:${path}` } };
  }
  if (input.startsWith('tarball+') || /^https?:\/\/.+\.(tar\.gz|tgz|tar\.xz|tar\.zst|zip)$/.test(input)) {
    return { ok: true, ref: { kind: 'tarball', url: input } };
  }
  return {
    ok: false,
    message: `flake reference "${input}" is not supported, expected github:OWNER/REPO/COMMIT, git+URL?rev=COMMIT, a tarball URL or path:./DIR`,
  };
}
