/**
 * The offline set's use of apt (run through the apt adapter, `apt/apt.ts`). Resolution runs
 * against an empty dpkg status so the result does not depend on what the host has installed,
 * only on the apt indexes.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { AptFailedError, type AptTool, aptRun, aptStateOptions } from '../apt/apt.js';
import { EnvironmentError } from '../util/errors.js';
import { acquireLock } from '../util/fileLock.js';
import { cacheDir } from '../util/paths.js';

export interface DebSpec {
  name: string;
  version: string;
}

export interface DebInfo extends DebSpec {
  arch: string;
  filename: string;
  sha256: string;
  size: number;
}

/** Thrown when apt does not know a name=version (it vanished from the archive, or indexes are stale). */
export class AptMissingError extends Error {
  constructor(
    readonly missing: DebSpec[],
    readonly output: string,
  ) {
    super(`apt does not know ${missing.map((m) => `${m.name}=${m.version}`).join(', ')}`);
  }
}

const HOST_ARCH = ['-o', 'APT::Architectures=amd64'];

/** Debian's name for the architecture Node runs on (what the host's apt indexes cover). */
export function hostDebianArch(nodeArch: NodeJS.Architecture = process.arch): string {
  const names: Partial<Record<NodeJS.Architecture, string>> = {
    x64: 'amd64',
    arm64: 'arm64',
    ia32: 'i386',
    arm: 'armhf',
    riscv64: 'riscv64',
    ppc64: 'ppc64el',
    s390x: 's390x',
    loong64: 'loong64',
    mips: 'mips',
    mipsel: 'mipsel',
  };
  return names[nodeArch] ?? nodeArch;
}

/** Whether packages of `arch` need an apt state of their own (`all` is in every index). */
export function isForeignArch(arch: string, host: string = hostDebianArch()): boolean {
  return arch !== 'all' && arch !== host;
}

/** Where reprorom keeps the apt indexes of another architecture: its cache, never /var/lib/apt. */
export function foreignAptDir(arch: string): string {
  return join(cacheDir(), 'apt', arch);
}

/**
 * apt options for the indexes of another architecture: that architecture only, index lists,
 * package caches and an empty dpkg status in `dir`, no translations. The sources stay the
 * host's (/etc/apt/sources.list and sources.list.d), so no mirror is named here.
 */
export function foreignArchOptions(arch: string, dir: string): string[] {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(arch)) throw new Error(`not a Debian architecture: ${arch}`);
  return aptStateOptions({
    architecture: arch,
    lists: join(dir, 'lists'),
    status: join(dir, 'status'),
    cache: join(dir, 'cache'),
    // The folder is private to this user: _apt could not write it.
    settings: ['Acquire::Languages=none', 'APT::Sandbox::User=root'],
  });
}

/** The apt options that select `arch`'s indexes: the host's own, or reprorom's copy for another architecture. */
function archOptions(arch: string | undefined): string[] {
  return arch === undefined || !isForeignArch(arch)
    ? HOST_ARCH
    : foreignArchOptions(arch, foreignAptDir(arch));
}

/**
 * Fetch the indexes of another architecture into reprorom's cache (`apt-get update` with
 * foreignArchOptions). With `onlyIfMissing`, nothing happens when indexes are already there.
 * One update at a time per architecture, across processes.
 */
export async function aptUpdateForeign(
  arch: string,
  opts: { onlyIfMissing?: boolean; signal?: AbortSignal } = {},
): Promise<void> {
  const dir = foreignAptDir(arch);
  const options = foreignArchOptions(arch, dir);
  await mkdir(join(dir, 'lists', 'partial'), { recursive: true });
  await mkdir(join(dir, 'cache', 'archives', 'partial'), { recursive: true });
  const unlock = await acquireLock(join(dir, 'update.lock'), {
    waitMs: 10 * 60 * 1000,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  try {
    if (opts.onlyIfMissing && (await hasIndexes(join(dir, 'lists')))) return;
    await writeFile(join(dir, 'status'), '');
    await apt('apt-get', ['update', '-q', ...options], undefined, opts.signal);
  } catch (err) {
    if (!(err instanceof AptFailedError)) throw err;
    throw new EnvironmentError(
      `apt-get update for ${arch} failed: ${err.tail()}`,
      'check the apt sources and network access',
      { cause: err },
    );
  } finally {
    await unlock();
  }
}

async function hasIndexes(lists: string): Promise<boolean> {
  const names = await readdir(lists).catch(() => [] as string[]);
  return names.some((n) => /_Packages(\.[a-z0-9]+)?$/.test(n));
}

/** A failure is an AptFailedError: the callers read apt's complaints from it. */
async function apt(
  cmd: AptTool,
  args: string[],
  cwd?: string,
  signal?: AbortSignal,
): Promise<{ stdout: string }> {
  const install = 'the offline package set is fetched with Debian apt; run on a Debian or Ubuntu host';
  return { stdout: await aptRun(cmd, args, { cwd, signal, install }) };
}

/** The name=version pairs apt complained about, from its error lines. */
export function missingFromAptOutput(output: string, asked: DebSpec[]): DebSpec[] {
  const missing: DebSpec[] = [];
  for (const m of output.matchAll(/Version '([^']+)' for '([^']+)' was not found/g)) {
    missing.push({ name: m[2] ?? '', version: m[1] ?? '' });
  }
  for (const m of output.matchAll(/Unable to locate package (\S+)/g)) {
    const name = (m[1] ?? '').split('=')[0] ?? '';
    missing.push({ name, version: asked.find((a) => a.name === name)?.version ?? '' });
  }
  for (const m of output.matchAll(/Can't find a source to download version '([^']+)' of '([^':]+)/g)) {
    missing.push({ name: m[2] ?? '', version: m[1] ?? '' });
  }
  return missing;
}

/** `apt-get download` into `dir`; apt itself checks the archive's hashes too. */
export async function aptDownload(
  specs: DebSpec[],
  dir: string,
  signal?: AbortSignal,
  arch?: string,
): Promise<void> {
  if (specs.length === 0) return;
  try {
    // Sandbox user root: the cache folder is private to this user, _apt could not write it.
    const options = arch !== undefined && isForeignArch(arch) ? archOptions(arch) : [];
    await apt(
      'apt-get',
      [
        'download',
        '-q',
        '-o',
        'APT::Sandbox::User=root',
        ...options,
        ...specs.map((s) => `${s.name}=${s.version}`),
      ],
      dir,
      signal,
    );
  } catch (err) {
    if (!(err instanceof AptFailedError)) throw err;
    const missing = missingFromAptOutput(err.output, specs);
    if (missing.length > 0) throw new AptMissingError(missing, err.output);
    throw new EnvironmentError(
      `apt-get download failed: ${err.tail()}`,
      'check the apt sources and network access (apt-get update)',
      { cause: err },
    );
  }
}

export async function aptUpdate(signal?: AbortSignal): Promise<void> {
  try {
    await apt('apt-get', ['update', '-q'], undefined, signal);
  } catch (err) {
    if (!(err instanceof AptFailedError)) throw err;
    throw new EnvironmentError(
      `apt-get update failed: ${err.exit}`,
      'check the apt sources and network access',
      { cause: err },
    );
  }
}

/**
 * Resolve roots to the full dependency closure (no recommends), as if nothing were installed;
 * `arch`: another architecture's packages, from reprorom's indexes of it (aptUpdateForeign).
 */
export async function aptResolve(roots: string[], arch?: string): Promise<DebSpec[]> {
  const dir = await mkdtemp(join(tmpdir(), 'reprorom-apt-'));
  try {
    const status = join(dir, 'status');
    await writeFile(status, '');
    const { stdout } = await apt('apt-get', [
      'install',
      '-s',
      '-qq',
      '--no-install-recommends',
      // The architecture's indexes first: the empty status below must win over theirs.
      ...archOptions(arch),
      '-o',
      `Dir::State::status=${status}`,
      '-o',
      'Debug::NoLocking=1',
      ...roots,
    ]);
    return parseSimulatedInstall(stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `Inst NAME (VERSION suite… [ARCH])` lines of `apt-get install -s`. */
export function parseSimulatedInstall(stdout: string): DebSpec[] {
  const out: DebSpec[] = [];
  for (const m of stdout.matchAll(/^Inst (\S+) \((\S+) /gm))
    out.push({ name: (m[1] ?? '').split(':')[0] ?? '', version: m[2] ?? '' });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Archive metadata (file name, size, sha256) of exact versions, from `apt-cache show`. */
export async function aptShow(specs: DebSpec[], arch?: string): Promise<DebInfo[]> {
  let stdout: string;
  try {
    ({ stdout } = await apt('apt-cache', [
      'show',
      ...archOptions(arch),
      ...specs.map((s) => `${s.name}=${s.version}`),
    ]));
  } catch (err) {
    if (!(err instanceof AptFailedError)) throw err;
    throw new AptMissingError(missingFromAptOutput(err.output, specs), err.output);
  }
  const byKey = new Map<string, DebInfo>();
  for (const stanza of stdout.split(/\n\n+/)) {
    const field = (k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(stanza)?.[1]?.trim();
    const name = field('Package');
    const version = field('Version');
    const filename = field('Filename');
    const sha256 = field('SHA256');
    if (!name || !version || !filename || !sha256) continue;
    const key = `${name}=${version}`;
    if (byKey.has(key)) continue;
    byKey.set(key, {
      name,
      version,
      arch: field('Architecture') ?? 'amd64',
      filename: basename(filename),
      sha256,
      size: Number(field('Size') ?? 0),
    });
  }
  const missing = specs.filter((s) => !byKey.has(`${s.name}=${s.version}`));
  if (missing.length > 0) throw new AptMissingError(missing, stdout);
  return specs.map((s) => byKey.get(`${s.name}=${s.version}`) as DebInfo);
}

/**
 * Archive folders (URLs ending in "/") where apt's indexes put any version of a
 * package today. Debian drops superseded versions from its indexes long before it
 * deletes them from the pool, so a locked file is often still in one of these.
 */
export async function aptPoolFolders(name: string, signal?: AbortSignal, arch?: string): Promise<string[]> {
  const options = archOptions(arch);
  const { stdout } = await apt('apt-cache', ['madison', ...options, name], undefined, signal).catch(() => ({
    stdout: '',
  }));
  const versions = binaryVersions(stdout, name);
  if (versions.length === 0) return [];
  // In an empty folder: apt-get download prints nothing for a file already in its folder.
  const empty = await mkdtemp(join(tmpdir(), 'reprorom-apt-'));
  try {
    const folders = new Set<string>();
    // One version at a time: apt-get download fails as a whole when it cannot find one of its
    // arguments, and a version it cannot download must not hide the others.
    for (const version of versions) {
      const uris = await apt(
        'apt-get',
        ['download', '--print-uris', '-qq', ...options, `${name}=${version}`],
        empty,
        signal,
      ).catch(() => ({ stdout: '' }));
      for (const folder of poolFoldersFromUris(uris.stdout)) folders.add(folder);
    }
    return [...folders];
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
}

/**
 * The versions of binary package `name` in `apt-cache madison` lines (`NAME | VERSION | URL
 * SUITE ARCH Packages`). With a deb-src line in the sources, madison also prints the source
 * package that builds it (`linux-signed-amd64 | 6.1.192+3 | URL SUITE Sources`): not a
 * version of this binary, so only lines of `name` ending in `Packages` count.
 */
export function binaryVersions(madison: string, name: string): string[] {
  const versions = new Set<string>();
  for (const line of madison.split('\n')) {
    const [pkg, version, origin] = line.split('|').map((c) => c.trim());
    if (pkg === name && version && origin?.endsWith(' Packages')) versions.add(version);
  }
  return [...versions];
}

/** The folders of `apt-get download --print-uris` lines: `'URL' FILE SIZE HASH`. */
export function poolFoldersFromUris(printed: string): string[] {
  const folders = new Set<string>();
  for (const m of printed.matchAll(/^'([a-z]+:\/\/[^']+\/)[^'/]+'/gm)) if (m[1]) folders.add(m[1]);
  return [...folders];
}
