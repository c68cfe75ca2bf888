/** Parses a pin's flake reference and decides whether it is locked to a commit or to content. */
import { posix } from 'node:path';

export type FlakeRef =
  | { kind: 'github'; owner: string; repo: string; rev: string; url: string }
  | { kind: 'git'; url: string; rev: string }
  | { kind: 'path'; path: string; url: string }
  | { kind: 'tarball'; url: string };

export type FlakeRefResult = { ok: true; ref: FlakeRef } | { ok: false; message: string };

const COMMIT = /^[0-9a-f]{40}$/;

/** Why `rev` is not a commit, in words that follow `flake reference "…"`. */
function notACommit(rev: string): string {
  if (/^[0-9a-fA-F]{40}$/.test(rev)) return `names the commit "${rev}" in uppercase`;
  if (/^[0-9a-f]{7,39}$/.test(rev)) return `names the abbreviated commit "${rev}"`;
  return `points at the branch or tag "${rev}"`;
}

/**
 * `pinName` only shapes the advice (`reprorom pin lock NAME`); it defaults to the
 * placeholder NAME for callers that have no pin in hand.
 */
export function parseFlakeRef(input: string, pinName = 'NAME'): FlakeRefResult {
  // `pin lock` reads the reference from the pin file and resolves a branch to its commit.
  const lock = () => `(run \`reprorom pin lock ${pinName}\` to resolve it to a commit)`;
  // A local file as a tarball (or a git repository) is a host path in disguise: not fetchable
  // elsewhere, and nix would copy whatever it names into the store.
  if (/^(tarball\+|git\+)?file:/.test(input)) {
    return {
      ok: false,
      message: `flake reference "${input}" names a local file, expected path:./DIR for a flake inside the workspace, or an https: tarball or git URL`,
    };
  }
  if (input.startsWith('github:')) return githubRef(input, lock);
  if (input.startsWith('git+')) return gitRef(input, lock);
  if (input.startsWith('path:') || input.startsWith('./') || input.startsWith('../')) return pathRef(input);
  if (input.startsWith('tarball+') || /^https?:\/\/.+\.(tar\.gz|tgz|tar\.xz|tar\.zst|zip)$/.test(input)) {
    return { ok: true, ref: { kind: 'tarball', url: input } };
  }
  return {
    ok: false,
    message: `flake reference "${input}" is not supported, expected github:OWNER/REPO/COMMIT, git+URL?rev=COMMIT, a tarball URL or path:./DIR`,
  };
}

/** `github:OWNER/REPO/COMMIT` (or `?rev=COMMIT`). */
function githubRef(input: string, lock: () => string): FlakeRefResult {
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
  const rev = params.get('rev') ?? (ref === '' ? undefined : ref);
  if (rev === undefined) {
    return {
      ok: false,
      message: `flake reference "${input}" names no commit, expected github:${owner}/${repo}/<40-hex commit> ${lock()}`,
    };
  }
  if (!COMMIT.test(rev)) {
    return {
      ok: false,
      message: `flake reference "${input}" ${notACommit(rev)}, expected a 40-hex lowercase commit ${lock()}`,
    };
  }
  return { ok: true, ref: { kind: 'github', owner, repo, rev, url: `github:${owner}/${repo}/${rev}` } };
}

/** `git+URL?rev=COMMIT`. */
function gitRef(input: string, lock: () => string): FlakeRefResult {
  const q = input.indexOf('?');
  const rev = q >= 0 ? new URLSearchParams(input.slice(q + 1)).get('rev') : null;
  if (rev === null) {
    return {
      ok: false,
      message: `flake reference "${input}" has no ?rev=<40-hex commit>, expected a git reference locked to a commit ${lock()}`,
    };
  }
  if (!COMMIT.test(rev)) {
    return {
      ok: false,
      message: `flake reference "${input}" has rev "${rev}", which is not a full commit, expected ?rev=<40-hex lowercase commit> ${lock()}`,
    };
  }
  return { ok: true, ref: { kind: 'git', url: input, rev } };
}

/** `path:./DIR` (or `./DIR`): a folder inside the workspace. */
function pathRef(input: string): FlakeRefResult {
  const path = input.startsWith('path:') ? input.slice('path:'.length) : input;
  if (path.startsWith('/')) {
    return {
      ok: false,
      message: `flake reference "${input}" is an absolute path, expected a path relative to the workspace (path:./DIR)`,
    };
  }
  if (path === '') {
    return { ok: false, message: `flake reference "${input}" names no folder, expected path:./DIR` };
  }
  // As for local sources: a folder beside the workspace would not travel with it, and
  // `pin verify` would copy it into the world-readable /nix/store.
  const normal = posix.normalize(path.split(/[?#]/, 1)[0] ?? path);
  if (normal === '..' || normal.startsWith('../')) {
    return {
      ok: false,
      message: `flake reference "${input}" is outside the workspace, expected a folder inside the workspace (path:./DIR)`,
    };
  }
  return { ok: true, ref: { kind: 'path', path, url: `path:${path}` } };
}
