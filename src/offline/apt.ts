/**
 * The apt adapter: the only offline-set module that runs apt. Resolution runs
 * against an empty dpkg status so the result does not depend on what the host
 * has installed, only on the apt indexes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ExecaError, execa } from 'execa';
import { EnvironmentError } from '../util/errors.js';

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

async function apt(
  cmd: 'apt-get' | 'apt-cache',
  args: string[],
  cwd?: string,
  signal?: AbortSignal,
): Promise<{ stdout: string; stderr: string }> {
  try {
    const r = await execa(cmd, args, {
      cwd,
      env: { LC_ALL: 'C' },
      maxBuffer: 256 * 1024 * 1024,
      ...(signal ? { cancelSignal: signal } : {}),
    });
    return { stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    signal?.throwIfAborted();
    if (err instanceof ExecaError && err.code === 'ENOENT') {
      throw new EnvironmentError(
        `${cmd} is not installed`,
        'the offline package set is fetched with Debian apt; run on a Debian or Ubuntu host',
        { cause: err },
      );
    }
    throw err;
  }
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
export async function aptDownload(specs: DebSpec[], dir: string, signal?: AbortSignal): Promise<void> {
  if (specs.length === 0) return;
  try {
    // Sandbox user root: the cache folder is private to this user, _apt could not write it.
    await apt(
      'apt-get',
      ['download', '-q', '-o', 'APT::Sandbox::User=root', ...specs.map((s) => `${s.name}=${s.version}`)],
      dir,
      signal,
    );
  } catch (err) {
    if (!(err instanceof ExecaError)) throw err;
    const output = `${String(err.stdout ?? '')}\n${String(err.stderr ?? '')}`;
    const missing = missingFromAptOutput(output, specs);
    if (missing.length > 0) throw new AptMissingError(missing, output);
    const tail = output.trim().split('\n').slice(-4).join('\n  ');
    throw new EnvironmentError(
      `apt-get download failed: ${tail || err.shortMessage}`,
      'check the apt sources and network access (apt-get update)',
      { cause: err },
    );
  }
}

export async function aptUpdate(signal?: AbortSignal): Promise<void> {
  try {
    await apt('apt-get', ['update', '-q'], undefined, signal);
  } catch (err) {
    if (!(err instanceof ExecaError)) throw err;
    throw new EnvironmentError(
      `apt-get update failed: ${err.shortMessage}`,
      'check the apt sources and network access',
      { cause: err },
    );
  }
}

/** Resolve roots to the full dependency closure (no recommends), as if nothing were installed. */
export async function aptResolve(roots: string[]): Promise<DebSpec[]> {
  const dir = await mkdtemp(join(tmpdir(), 'reprorom-apt-'));
  try {
    const status = join(dir, 'status');
    await writeFile(status, '');
    const { stdout } = await apt('apt-get', [
      'install',
      '-s',
      '-qq',
      '--no-install-recommends',
      '-o',
      `Dir::State::status=${status}`,
      '-o',
      'Debug::NoLocking=1',
      ...HOST_ARCH,
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
export async function aptShow(specs: DebSpec[]): Promise<DebInfo[]> {
  let stdout: string;
  try {
    ({ stdout } = await apt('apt-cache', [
      'show',
      ...HOST_ARCH,
      ...specs.map((s) => `${s.name}=${s.version}`),
    ]));
  } catch (err) {
    if (!(err instanceof ExecaError)) throw err;
    const output = `${String(err.stdout ?? '')}\n${String(err.stderr ?? '')}`;
    throw new AptMissingError(missingFromAptOutput(output, specs), output);
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
export async function aptPoolFolders(name: string, signal?: AbortSignal): Promise<string[]> {
  const { stdout } = await apt('apt-cache', ['madison', ...HOST_ARCH, name], undefined, signal).catch(() => ({
    stdout: '',
  }));
  const versions = [...new Set(stdout.split('\n').map((l) => l.split('|')[1]?.trim() ?? ''))].filter(Boolean);
  if (versions.length === 0) return [];
  const uris = await apt(
    'apt-get',
    ['download', '--print-uris', '-qq', ...HOST_ARCH, ...versions.map((v) => `${name}=${v}`)],
    undefined,
    signal,
  ).catch(() => ({ stdout: '' }));
  return poolFoldersFromUris(uris.stdout);
}

/** The folders of `apt-get download --print-uris` lines: `'URL' FILE SIZE HASH`. */
export function poolFoldersFromUris(printed: string): string[] {
  const folders = new Set<string>();
  for (const m of printed.matchAll(/^'([a-z]+:\/\/[^']+\/)[^'/]+'/gm)) if (m[1]) folders.add(m[1]);
  return [...folders];
}
