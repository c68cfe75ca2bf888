/**
 * The one entry point for board sources: fetch (download into the cache and
 * verify), then prepare (a fresh private copy in a chosen creation order,
 * with its source hash). The user's tree, the cache and the copy are three
 * different places, so a build can never write into the first two.
 */
import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { cacheDir } from '../util/paths.js';
import { excludeMatcher, LOCAL_SKIP } from '../vocabulary/exclude.js';
import type { Source } from '../workspace/schema.js';
import { extractDebianSource, type FetchedDebian, fetchDebianSource } from './debian.js';
import { downloadVerified } from './download.js';
import { SourceError } from './errors.js';
import { checkoutGit, fetchGit } from './git.js';
import { type CreationOrder, orderEntries } from './order.js';
import { copyTree, scanTree, type TreeEntry, treeHash } from './tree.js';
import { extractTarball } from './untar.js';
import { type LocalGitState, localGitState } from './workspaceGit.js';

export type FetchedSource =
  | { type: 'local'; root: string }
  | { type: 'git'; mirror: string; rev: string; hit: boolean }
  | { type: 'tarball'; file: string; hit: boolean }
  | ({ type: 'debian-source' } & FetchedDebian);

export interface FetchOptions {
  /** Folder that relative local paths start from (default: the current folder). */
  workspaceRoot?: string;
  signal?: AbortSignal;
}

/** Bring the pinned bytes into the cache and verify them (every call verifies again). */
export async function fetchSource(source: Source, opts: FetchOptions = {}): Promise<FetchedSource> {
  switch (source.type) {
    case 'local':
      return { type: 'local', root: await localRoot(opts.workspaceRoot ?? '.', source.path) };
    case 'git': {
      const { mirror, hit } = await fetchGit(source.url, source.rev, opts.signal);
      return { type: 'git', mirror, rev: source.rev, hit };
    }
    case 'tarball': {
      const dl = await downloadVerified(
        source.url,
        source.sha256,
        join(cacheDir(), 'tarballs', source.sha256),
        { files: { within: opts.workspaceRoot ?? '.' }, ...(opts.signal ? { signal: opts.signal } : {}) },
      );
      return { type: 'tarball', file: dl.path, hit: dl.hit };
    }
    case 'debian-source':
      return {
        type: 'debian-source',
        ...(await fetchDebianSource(source.package, source.version, source.sha256, opts.signal)),
      };
  }
}

/**
 * The real folder of a local source. A link on the way (the folder itself or a parent) may
 * lead anywhere on the host, so the resolved path must still be inside the resolved workspace.
 */
async function localRoot(workspaceRoot: string, path: string): Promise<string> {
  const hint = 'point source.path at a folder inside the workspace (not through a symbolic link)';
  const where = resolve(workspaceRoot, path);
  const [real, realWorkspace] = await Promise.all([
    realpath(where).catch((err: unknown) => {
      throw new SourceError(`source folder ${path} is not a readable folder`, hint, { cause: err });
    }),
    realpath(workspaceRoot),
  ]);
  const inside = relative(realWorkspace, real);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside))
    throw new SourceError(`source folder ${path} leads outside the workspace`, hint);
  return real;
}

/**
 * The git state of a local source's folder (commit, place in the checkout, dirty or
 * clean), or null when the folder is not in a git checkout.
 */
export async function localSourceState(
  workspaceRoot: string,
  source: Extract<Source, { type: 'local' }>,
  signal?: AbortSignal,
): Promise<LocalGitState | null> {
  const root = await localRoot(workspaceRoot, source.path);
  const state = await localGitState(root, {
    skipNames: LOCAL_SKIP,
    exclude: excludeMatcher(source.exclude),
    ...(signal ? { signal } : {}),
  });
  return state ?? null;
}

export interface PrepareOptions {
  /** Empty (or missing) folder that receives the copy; on failure it may hold a partial copy. */
  into: string;
  order?: CreationOrder;
  /** Seed of the 'shuffled' order. */
  seed?: number;
  /** mtime of every copied entry; default the commit time when known, else 1. */
  mtime?: number;
  signal?: AbortSignal;
}

export interface PreparedSource {
  /** The private copy: the tree's root, ready to be copied into a container. */
  dir: string;
  /** sha256 of the canonical listing (see treeListing): equal trees, equal hashes. */
  hash: string;
  /** Git commit id (git sources). */
  commit?: string;
  /** Commit time in seconds (git), or the newest debian/changelog date (debian-source). */
  commitTime?: number;
  /** debian-source: the Debian patches applied to the tree (none with `patches: none`). */
  patches?: Array<{ name: string; sha256: string }>;
  /** Regular files in the copy. */
  files: number;
  /** Local sources: the git state of the folder (null: not in a git checkout). */
  workspaceGit?: LocalGitState | null;
  /** Whether the fetch was served from the cache (always true for local sources). */
  cacheHit: boolean;
  /**
   * Entries in the order they were created. Whoever copies the tree on (a tar
   * stream into a container) should keep this order, or the variation is lost.
   */
  entries: TreeEntry[];
}

export async function prepareSource(
  workspaceRoot: string,
  source: Source,
  opts: PrepareOptions,
): Promise<PreparedSource> {
  const into = resolve(opts.into);
  const fetched = await fetchSource(source, { workspaceRoot, signal: opts.signal });
  let stage: string | undefined;
  try {
    const skipNames =
      fetched.type === 'local' ? LOCAL_SKIP : fetched.type === 'git' ? new Set(['.git']) : undefined;
    let root: string;
    let unpacked: Unpacked;
    if (fetched.type === 'local') {
      root = fetched.root;
      unpacked = { label: `source folder ${root}` };
    } else {
      // Staged beside the copy: same file system, and cleaned up whatever happens.
      await mkdir(dirname(into), { recursive: true });
      stage = await mkdtemp(join(dirname(into), '.reprorom-stage-'));
      root = join(stage, 'tree');
      unpacked = await unpackFetched(source, fetched, root, opts.signal);
    }
    const { label, commit, commitTime, patches } = unpacked;
    const entries = await scanTree(root, {
      skipNames,
      exclude: source.type === 'local' ? excludeMatcher(source.exclude) : undefined,
      skipPaths: [into],
      label,
      signal: opts.signal,
    });
    const ordered = orderEntries(entries, opts.order ?? 'sorted', opts.seed ?? 0);
    await copyTree(root, ordered, into, {
      order: 'as-given',
      mtime: opts.mtime ?? commitTime ?? 1,
      signal: opts.signal,
    });
    const hash = await treeHash(into, entries);
    const prepared: PreparedSource = {
      dir: into,
      hash,
      files: entries.filter((e) => e.kind === 'file').length,
      cacheHit: fetched.type === 'local' ? true : fetched.hit,
      entries: ordered,
    };
    if (commit !== undefined) prepared.commit = commit;
    if (source.type === 'local')
      prepared.workspaceGit = await localSourceState(workspaceRoot, source, opts.signal);
    if (commitTime !== undefined) prepared.commitTime = commitTime;
    if (patches !== undefined) prepared.patches = patches;
    return prepared;
  } finally {
    if (stage) await rm(stage, { recursive: true, force: true });
  }
}

/** What unpacking a fetched source tells beyond its tree: a label for messages, its commit and time, the patches applied. */
interface Unpacked {
  label: string;
  commit?: string;
  commitTime?: number;
  patches?: PreparedSource['patches'];
}

/** A fetched git, tarball or Debian source unpacked into `root`. */
async function unpackFetched(
  source: Source,
  fetched: Exclude<FetchedSource, { type: 'local' }>,
  root: string,
  signal: AbortSignal | undefined,
): Promise<Unpacked> {
  if (fetched.type === 'git') {
    const label = `git ${source.type === 'git' ? source.url : ''} at ${fetched.rev}`;
    const { commit, commitTime } = await checkoutGit(fetched.mirror, fetched.rev, root, signal);
    return { label, commit, commitTime };
  }
  if (fetched.type === 'tarball') {
    const label = `tarball ${source.type === 'tarball' ? source.url : fetched.file}`;
    await extractTarball(fetched.file, root, {
      stripComponents: source.type === 'tarball' ? source.stripComponents : 0,
      label,
      signal,
    });
    return { label };
  }
  const label = `Debian source ${source.type === 'debian-source' ? `${source.package} ${source.version}` : ''}`;
  const policy = source.type === 'debian-source' ? source.patches : 'debian';
  const { commitTime, applied } = await extractDebianSource(fetched, root, signal, policy);
  return { label, commitTime, patches: applied };
}
