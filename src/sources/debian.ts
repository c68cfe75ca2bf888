/**
 * Debian source packages: downloaded with apt through a private apt
 * configuration in the cache (deb-src entries derived from the host's own
 * sources at run time; the host's apt state is never touched), verified
 * against the board's sha256 pins on every use, and unpacked with dpkg-source.
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecaError } from 'execa';
import { type AptTool, aptResult, aptStateOptions } from '../apt/apt.js';
import { writeFileAtomic } from '../util/atomic.js';
import { EnvironmentError } from '../util/errors.js';
import { cacheDir } from '../util/paths.js';
import { sha256Bytes, sha256File } from '../util/sha256.js';
import { runTool, type ToolResult } from '../util/tool.js';
import { hostDebSrc } from './aptSources.js';
import { SourceError } from './errors.js';

const LIST_MAX_AGE_MS = 24 * 3600 * 1000;

/** apt runs one at a time in this process: it locks its lists folder and would fail a second caller. */
let aptQueue: Promise<unknown> = Promise.resolve();
function serialised<T>(fn: () => Promise<T>): Promise<T> {
  const run = aptQueue.then(fn, fn);
  aptQueue = run.catch(() => undefined);
  return run;
}

function aptDir(): string {
  return join(cacheDir(), 'apt');
}

/** Folder of one verified source package in the cache (":" of an epoch kept out of file names). */
export function debianCacheDir(pkg: string, version: string): string {
  return join(cacheDir(), 'sources', `${pkg}_${version.replace(/:/g, '%3a')}`);
}

/** apt on the private state (its own sources, lists and caches); its exit code is an answer here. */
async function aptTool(
  tool: AptTool,
  args: string[],
  opts: { cwd?: string; signal?: AbortSignal } = {},
): Promise<ToolResult> {
  const root = aptDir();
  const state = aptStateOptions({
    sources: { list: join(root, 'etc', 'sources.list'), parts: join(root, 'etc', 'sources.list.d') },
    lists: join(root, 'lists'),
    cache: join(root, 'cache'),
    settings: ['APT::Get::List-Cleanup=1'],
  });
  return aptResult(tool, [...state, ...args], {
    ...opts,
    install: 'debian-source boards need a Debian or Ubuntu machine with apt',
  });
}

/**
 * Write the private apt config (deb-src twins of the host's entries) and run
 * `apt-get update` with it when the lists are missing, old, or the entries changed.
 */
async function ensureAptLists(
  force: boolean,
  signal?: AbortSignal,
): Promise<{ updated: boolean; warnings: string }> {
  const root = aptDir();
  const host = await hostDebSrc();
  if (host.count === 0) {
    throw new EnvironmentError(
      'no apt sources found in /etc/apt/sources.list or /etc/apt/sources.list.d',
      'add a Debian mirror (a "deb" entry); reprorom derives the matching deb-src entry from it',
    );
  }
  const stamp = join(root, 'lists', '.reprorom-stamp');
  const key = sha256Bytes(host.deb822 + host.oneLine);
  let fresh = false;
  try {
    const [k, t] = (await readFile(stamp, 'utf8')).trim().split(' ');
    fresh = k === key && Date.now() - Number(t) < LIST_MAX_AGE_MS;
  } catch {
    fresh = false;
  }
  if (fresh && !force) return { updated: false, warnings: '' };
  await writeFileAtomic(join(root, 'etc', 'sources.list'), host.oneLine);
  await writeFileAtomic(join(root, 'etc', 'sources.list.d', 'reprorom-src.sources'), host.deb822);
  await mkdir(join(root, 'lists', 'partial'), { recursive: true });
  await mkdir(join(root, 'cache', 'archives', 'partial'), { recursive: true });
  // A failing third-party entry makes apt exit non-zero but the other lists still arrive: keep going,
  // and show apt's words only if the package then cannot be found.
  const r = await aptTool('apt-get', ['update', '-q'], { signal });
  await writeFileAtomic(stamp, `${key} ${Date.now()}\n`);
  return { updated: true, warnings: r.exitCode === 0 ? '' : errorLines(r.stderr) };
}

function errorLines(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => /^(E|W|Err):?/.test(l.trim()))
    .slice(0, 6)
    .join('; ');
}

/** Versions of `pkg` that the private apt lists know (empty when the package is unknown). */
export async function availableVersions(pkg: string, signal?: AbortSignal): Promise<string[]> {
  const r = await aptTool('apt-cache', ['showsrc', '--only-source', pkg], { signal });
  return [...new Set([...r.stdout.matchAll(/^Version: (\S+)$/gm)].map((m) => m[1] as string))];
}

/** The sha256 of each file of `pkg=version` as the signed Sources index lists them (for writing pins). */
export async function indexedSha256(
  pkg: string,
  version: string,
  signal?: AbortSignal,
): Promise<Record<string, string>> {
  await serialised(() => ensureAptLists(false, signal));
  const r = await aptTool('apt-cache', ['showsrc', '--only-source', pkg], { signal });
  for (const stanza of r.stdout.split(/\n\n+/)) {
    if (!new RegExp(`^Version: ${version.replace(/[.+]/g, '\\$&')}$`, 'm').test(stanza)) continue;
    const block = /^Checksums-Sha256:\n((?: .+\n?)+)/m.exec(stanza)?.[1] ?? '';
    const out: Record<string, string> = {};
    for (const m of block.matchAll(/^ ([0-9a-f]{64}) \d+ (\S+)$/gm)) out[m[2] as string] = m[1] as string;
    return out;
  }
  return {};
}

interface Verdict {
  ok: boolean;
  problems: string[];
}

/** Check every pinned file of a cache folder; any missing or different file fails the entry. */
async function verifyFolder(dir: string, pins: Record<string, string>): Promise<Verdict> {
  const problems: string[] = [];
  for (const [name, want] of Object.entries(pins)) {
    try {
      const got = await sha256File(join(dir, name));
      if (got !== want) problems.push(`${name}: expected ${want}, got ${got}`);
    } catch {
      problems.push(`${name}: missing`);
    }
  }
  return { ok: problems.length === 0 && Object.keys(pins).length > 0, problems };
}

function pinsHint(actual: Record<string, string>): string {
  const lines = Object.entries(actual).map(([n, h]) => `    ${n}: ${h}`);
  return `after checking them, pin the files in the board's source.sha256:\n${lines.join('\n')}`;
}

/** Run `apt-get source --download-only` into `tmp`, turning apt's failures into clear errors. */
async function aptDownload(pkg: string, version: string, tmp: string, signal?: AbortSignal): Promise<void> {
  const spec = `${pkg}=${version}`;
  let lists = await ensureAptLists(false, signal);
  let r = await aptTool('apt-get', ['source', '--download-only', '-q', spec], { cwd: tmp, signal });
  if (
    r.exitCode !== 0 &&
    /Can not find version|Unable to find a source package/.test(r.stderr) &&
    !lists.updated
  ) {
    lists = await ensureAptLists(true, signal); // the lists may predate the version: refresh once
    r = await aptTool('apt-get', ['source', '--download-only', '-q', spec], { cwd: tmp, signal });
  }
  if (r.exitCode === 0) return;
  const what = `Debian source package ${pkg} ${version}`;
  const otherMirror =
    'use a tarball or git source for it instead, or add a deb entry for a mirror that serves it to /etc/apt/sources.list.d';
  // apt says "Can not find version" and then "Unable to find a source package": the version test goes first.
  if (/Can not find version/.test(r.stderr)) {
    const versions = await availableVersions(pkg, signal);
    throw new SourceError(
      `${what} is not available: the mirror has ${versions.length ? versions.join(', ') : 'no versions'}`,
      `set source.version to one of those and update the sha256 pins, or ${otherMirror}`,
    );
  }
  if (/Unable to find a source package/.test(r.stderr)) {
    throw new SourceError(
      `${what} is not available: apt knows no source package named ${pkg}`,
      `check source.package; ${otherMirror}${lists.warnings ? ` (apt update said: ${lists.warnings})` : ''}`,
    );
  }
  const failed = [...r.stderr.matchAll(/Failed to fetch (\S+)\s+(.*)$/gm)].map(
    (m) => `${(m[1] ?? '').split('/').pop()} (${(m[2] ?? '').replace(/\s*\[IP:.*\]/, '').trim()})`,
  );
  if (failed.length > 0) {
    throw new SourceError(
      `${what} is not available from this machine's apt mirror: ${failed.join(', ')}`,
      `the mirror lists it but does not serve its files; ${otherMirror}`,
    );
  }
  throw new EnvironmentError(
    `apt-get source ${spec} failed: ${errorLines(r.stderr) || `exit ${r.exitCode}`}`,
    'run the same apt-get command by hand to see why',
  );
}

export interface FetchedDebian {
  /** Cache folder holding the verified files. */
  dir: string;
  files: string[];
  hit: boolean;
}

/**
 * Make `cacheDir()/sources/PKG_VERSION/` hold the pinned, verified files of a
 * source package. A cached entry is hashed again on every use; a bad one is
 * deleted and fetched again.
 */
export async function fetchDebianSource(
  pkg: string,
  version: string,
  pins: Record<string, string>,
  signal?: AbortSignal,
): Promise<FetchedDebian> {
  const dir = debianCacheDir(pkg, version);
  const files = Object.keys(pins).sort();
  if ((await verifyFolder(dir, pins)).ok) return { dir, files, hit: true };
  return serialised(async () => {
    if ((await verifyFolder(dir, pins)).ok) return { dir, files, hit: true }; // fetched meanwhile
    // The cached folder stays until a download verifies: a mistyped pin on an offline
    // machine must not delete its only copy of the source.
    await mkdir(join(cacheDir(), 'sources'), { recursive: true });
    const tmp = await mkdtemp(join(cacheDir(), 'sources', `.${pkg}-`));
    try {
      await aptDownload(pkg, version, tmp, signal);
      const actual: Record<string, string> = {};
      for (const name of (await readdir(tmp)).sort()) actual[name] = await sha256File(join(tmp, name));
      if (files.length === 0) {
        throw new SourceError(`${pkg} ${version}: source.sha256 pins no files`, pinsHint(actual));
      }
      for (const [name, got] of Object.entries(actual)) {
        const want = pins[name];
        if (want === undefined) {
          throw new SourceError(
            `${pkg} ${version}: downloaded file ${name} (sha256 ${got}) is not pinned`,
            pinsHint(actual),
          );
        }
        if (want !== got) {
          await rm(join(tmp, name), { force: true });
          throw new SourceError(
            `sha256 mismatch for ${name} of ${pkg} ${version}: expected ${want}, got ${got}`,
            'the mirror serves different bytes than the pin; check the file, then fix source.sha256 (the bad file was deleted)',
          );
        }
      }
      const missing = files.filter((n) => !(n in actual));
      if (missing.length > 0) {
        throw new SourceError(
          `${pkg} ${version}: pinned file(s) ${missing.join(', ')} were not downloaded`,
          pinsHint(actual),
        );
      }
      await replaceFolder(tmp, dir);
      return { dir, files, hit: false };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
}

/** Put the verified folder `fresh` in place of `dir`, moving the old entry aside first (a rename cannot replace a folder). */
async function replaceFolder(fresh: string, dir: string): Promise<void> {
  const old = `${fresh}.old`;
  try {
    await rename(dir, old);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await rename(fresh, dir);
  await rm(old, { recursive: true, force: true });
}

/** Unpack the verified package with dpkg-source into `dest` (which must not exist yet). */
export async function extractDebianSource(
  fetched: FetchedDebian,
  dest: string,
  signal?: AbortSignal,
  patches: 'debian' | 'none' = 'debian',
): Promise<{ commitTime: number | undefined; applied: AppliedPatch[] }> {
  const dscs = fetched.files.filter((f) => f.endsWith('.dsc'));
  const dsc = dscs[0];
  if (dscs.length !== 1 || dsc === undefined) {
    throw new SourceError(
      `source.sha256 must pin exactly one .dsc file, found ${dscs.length}`,
      'pin the .dsc, .orig.tar.* and .debian.tar.* files',
    );
  }
  // --no-copy: leave the tarballs in the cache, not next to the tree. dpkg-source checks the
  // .dsc's own checksums of every file; an unverifiable signature is only a warning, so no --no-check.
  const skip = patches === 'none' ? ['--skip-patches'] : [];
  await runTool('dpkg-source', ['--no-copy', ...skip, '-x', join(fetched.dir, dsc), dest], {
    signal,
    env: { LC_ALL: 'C' },
    install: 'install it: apt-get install -y dpkg-dev',
    failed: (_message, cause) =>
      new SourceError(
        `dpkg-source -x ${dsc} failed: ${errorLines(String((cause as ExecaError).stderr)) || (cause as ExecaError).shortMessage}`,
        undefined,
        { cause },
      ),
  });
  return {
    commitTime: await changelogTime(dest),
    applied: patches === 'none' ? [] : await seriesPatches(dest),
  };
}

export interface AppliedPatch {
  /** As debian/patches/series names it. */
  name: string;
  sha256: string;
}

/** The patches of debian/patches/series in the order quilt applies them, each with its sha256. */
export async function seriesPatches(tree: string): Promise<AppliedPatch[]> {
  const dir = join(tree, 'debian', 'patches');
  const series = await readFile(join(dir, 'series'), 'utf8').catch(() => '');
  const names = series
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '' && !n.split('/').includes('..'));
  const out: AppliedPatch[] = [];
  for (const name of names) out.push({ name, sha256: await sha256File(join(dir, name)) });
  return out;
}

/** Date of the newest debian/changelog entry: what Debian itself uses as SOURCE_DATE_EPOCH. */
async function changelogTime(tree: string): Promise<number | undefined> {
  try {
    const text = await readFile(join(tree, 'debian', 'changelog'), 'utf8');
    const m = /^ -- .*?> {2}(.+)$/m.exec(text);
    const t = m?.[1] ? Date.parse(m[1]) : Number.NaN;
    return Number.isFinite(t) ? Math.floor(t / 1000) : undefined;
  } catch {
    return undefined;
  }
}
