/**
 * Git sources: a bare mirror per URL in the cache, fetched only when the
 * pinned commit is missing, and a checkout of exactly that commit into a
 * staging folder. Git runs without the user's or the system's config
 * (core.autocrlf and friends would change the checked-out bytes).
 */
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EnvironmentError } from '../util/errors.js';
import { cacheDir } from '../util/paths.js';
import { sha256Bytes } from '../util/sha256.js';
import { runTool, stderrTail } from '../util/tool.js';
import { SourceError } from './errors.js';

const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_ASKPASS: 'true',
  LC_ALL: 'C',
};

export async function git(
  args: string[],
  opts: { cwd?: string; signal?: AbortSignal } = {},
): Promise<string> {
  return runTool(
    'git',
    ['-c', 'safe.directory=*', '-c', 'advice.detachedHead=false', '-c', 'core.autocrlf=false', ...args],
    {
      cwd: opts.cwd,
      env: GIT_ENV,
      signal: opts.signal,
      install: 'install it: apt-get install -y git',
      // The caller says what failed (clone, check out) and adds git's last lines: lastLines().
      failed: (_message, cause) => cause as Error,
    },
  );
}

function lastLines(err: unknown): string {
  return (
    stderrTail(err, 3, '; ') || ((err as { shortMessage?: string }).shortMessage ?? (err as Error).message)
  );
}

export function gitMirrorPath(url: string): string {
  return join(cacheDir(), 'git', `${sha256Bytes(url).slice(0, 24)}.git`);
}

async function hasCommit(mirror: string, rev: string): Promise<boolean> {
  try {
    await git(['--git-dir', mirror, 'cat-file', '-e', `${rev}^{commit}`]);
    return true;
  } catch (err) {
    if (err instanceof EnvironmentError) throw err;
    return false;
  }
}

/** Make the cache mirror of `url` hold `rev`; returns the mirror's path. */
export async function fetchGit(
  url: string,
  rev: string,
  signal?: AbortSignal,
): Promise<{ mirror: string; hit: boolean }> {
  const mirror = gitMirrorPath(url);
  if (await hasCommit(mirror, rev)) return { mirror, hit: true };
  try {
    await git(['--git-dir', mirror, 'rev-parse', '--git-dir']);
  } catch (err) {
    if (err instanceof EnvironmentError) throw err;
    // No mirror yet: clone to a temporary name, then rename, so a half clone is never used.
    await mkdir(dirname(mirror), { recursive: true });
    const tmp = await mkdtemp(`${mirror}.tmp-`);
    try {
      await git(['clone', '--bare', '--quiet', url, tmp], { signal });
      await rename(tmp, mirror).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e; // another process won the race
      });
    } catch (e) {
      if (e instanceof EnvironmentError || signal?.aborted) throw e;
      throw new SourceError(
        `cannot clone ${url}: ${lastLines(e)}`,
        'check source.url and that the repository is reachable',
        { cause: e },
      );
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  if (!(await hasCommit(mirror, rev))) {
    // Branches and tags first; then the commit itself, which many servers allow.
    for (const refspec of [['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'], [rev]]) {
      try {
        await git(['--git-dir', mirror, 'fetch', '--quiet', url, ...refspec], { signal });
      } catch (e) {
        if (e instanceof EnvironmentError || signal?.aborted) throw e;
      }
      if (await hasCommit(mirror, rev)) break;
    }
  }
  if (!(await hasCommit(mirror, rev))) {
    throw new SourceError(
      `commit ${rev} is not in ${url}`,
      'check source.rev: it must be a full commit id reachable from the repository',
    );
  }
  return { mirror, hit: false };
}

/** Check out `rev` from the mirror into `stage` (a new folder); `.git` is left for the caller to skip. */
export async function checkoutGit(
  mirror: string,
  rev: string,
  stage: string,
  signal?: AbortSignal,
): Promise<{ commit: string; commitTime: number }> {
  try {
    await git(['clone', '--quiet', '--shared', '--no-checkout', mirror, stage], { signal });
    await git(['-C', stage, 'checkout', '--quiet', '--detach', rev], { signal });
    const [commit, time] = (await git(['-C', stage, 'show', '-s', '--format=%H %ct', rev])).split(' ');
    return { commit: commit ?? rev, commitTime: Number(time) };
  } catch (e) {
    if (e instanceof EnvironmentError || signal?.aborted) throw e;
    throw new SourceError(`cannot check out ${rev}: ${lastLines(e)}`, undefined, { cause: e });
  }
}
