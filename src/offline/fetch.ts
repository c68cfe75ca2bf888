/**
 * `reprorom pin fetch offline`: make every locked .deb available to nix without
 * network at build time. Debs are downloaded with apt into the user cache,
 * verified against the lock, then added to the nix store as the exact
 * fixed-output paths the flake declares, so nix treats them as already built.
 */
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { addFixed, invalidPaths } from '../nix/store.js';
import { EnvironmentError } from '../util/errors.js';
import { cacheDir } from '../util/paths.js';
import { sha256File } from '../util/sha256.js';
import { runTool } from '../util/tool.js';
import {
  AptMissingError,
  aptDownload,
  aptPoolFolders,
  aptUpdate,
  aptUpdateForeign,
  isForeignArch,
} from './apt.js';
import { DPKG_INSTALL } from './debSonames.js';
import {
  type DebLock,
  debKeyOf,
  debPackage,
  LOCK_ARCH,
  type LockedDeb,
  lockedDebs,
  RELOCK_COMMAND,
  readDebLock,
} from './debsLock.js';
import { flatFixedPath, recursiveFixedPath } from './storePath.js';

export interface HealedDeb {
  name: string;
  expected: string;
  actual: string;
}

export interface FetchResult {
  cache: string;
  debs: number;
  downloaded: string[];
  healed: HealedDeb[];
  seeded: number;
  busybox: string;
  seconds: number;
}

export interface FetchOptions {
  /** Progress and warnings, one line each (stderr in the CLI). */
  log?: (line: string) => void;
  /** Ctrl-C: stop apt and downloads; the temporary download folder is removed. */
  signal?: AbortSignal;
}

export function debsCacheDir(): string {
  return join(cacheDir(), 'debs');
}

export async function fetchOffline(workspaceRoot: string, opts: FetchOptions = {}): Promise<FetchResult> {
  const started = Date.now();
  const lock = await readDebLock(workspaceRoot);
  const dir = debsCacheDir();
  const debs = lockedDebs(lock);
  const { missing, healed } = await cacheVerifiedDebs(debs, opts);

  const seeded = await seedDebs(dir, debs);
  const busybox = await seedBusybox(dir, lock);
  return {
    cache: dir,
    debs: debs.length,
    downloaded: missing.map((d) => d.name),
    healed,
    seeded,
    busybox,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

/**
 * Make every deb of `debs` present in the cache with its locked sha256: a damaged copy is
 * deleted and fetched again, a missing one downloaded and verified before it is renamed in.
 */
export async function cacheVerifiedDebs(
  debs: LockedDeb[],
  opts: FetchOptions = {},
): Promise<{ missing: LockedDeb[]; healed: HealedDeb[] }> {
  const log = opts.log ?? (() => {});
  const dir = debsCacheDir();
  await mkdir(dir, { recursive: true });
  const healed: HealedDeb[] = [];
  const missing: LockedDeb[] = [];
  await mapLimit(debs, 4, async (deb) => {
    const file = join(dir, deb.storeName);
    if (!(await exists(file))) return missing.push(deb);
    const actual = await sha256File(file);
    if (actual === deb.sha256) return;
    // A truncated download or a flipped bit: never hand it to nix, fetch it again.
    log(
      `warning: cached ${deb.name} ${deb.version} has sha256 ${actual}, expected ${deb.sha256}; deleted, fetching again`,
    );
    healed.push({ name: deb.name, expected: deb.sha256, actual });
    await rm(file, { force: true });
    missing.push(deb);
  });
  missing.sort((a, b) => (a.name < b.name ? -1 : 1));
  if (missing.length > 0) log(`downloading ${missing.length} of ${debs.length} Debian packages with apt`);
  await downloadVerified(dir, missing, log, opts.signal);
  return { missing, healed };
}

async function downloadVerified(
  dir: string,
  debs: LockedDeb[],
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  // One apt call per architecture: another architecture's debs come from reprorom's indexes of it.
  for (const arch of [...new Set(debs.map(downloadArch))].sort()) {
    const ofArch = debs.filter((d) => downloadArch(d) === arch);
    if (isForeignArch(arch))
      await aptUpdateForeign(arch, { onlyIfMissing: true, ...(signal ? { signal } : {}) });
    await downloadVerifiedOfArch(dir, ofArch, arch, log, signal);
  }
}

/** The architecture whose indexes serve a deb: an `all` deb of an arm64 set comes from the arm64 ones. */
function downloadArch(deb: LockedDeb): string {
  return deb.name.split(':')[1] ?? LOCK_ARCH;
}

async function downloadVerifiedOfArch(
  dir: string,
  debs: LockedDeb[],
  arch: string,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (debs.length === 0) return;
  const tmp = await mkdtemp(join(dir, '.download-'));
  try {
    const gone = await downloadWithApt(debs, tmp, arch, signal);
    const lost: LockedDeb[] = [];
    for (const deb of gone) {
      log(`${deb.name} ${deb.version} is no longer in apt's indexes; looking for it in the archive pool`);
      if (!(await downloadFromPool(deb, tmp, signal, arch))) lost.push(deb);
    }
    if (lost.length > 0) {
      const which = lost.map((m) => `${m.name} ${m.version}`).join(', ');
      throw new EnvironmentError(
        `Debian package ${which} is not available from apt or the archive pool (the archive no longer has this version)`,
        `re-lock the offline set with the archive's current versions: ${RELOCK_COMMAND}; then \`reprorom pin lock offline\``,
      );
    }
    const files = await readdir(tmp);
    for (const deb of debs) {
      const got = files.find(
        (f) => f.startsWith(`${debPackage(deb.name)}_`) && f.endsWith(`_${deb.arch}.deb`),
      );
      if (!got)
        throw new EnvironmentError(
          `apt-get download did not produce ${deb.name} ${deb.version}`,
          'run it by hand to see why',
        );
      const file = join(tmp, got);
      const actual = await sha256File(file);
      if (actual !== deb.sha256) {
        await rm(file, { force: true });
        throw new EnvironmentError(
          `downloaded ${deb.name} ${deb.version} has sha256 ${actual}, but the lock says ${deb.sha256}`,
          `the archive serves different bytes for the same version; if that is expected, re-lock: ${RELOCK_COMMAND}`,
        );
      }
      await rename(file, join(dir, deb.storeName));
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Download with apt; returns the debs apt does not know even after an update
 * (stale indexes are the usual cause of "not found", so one update comes first).
 */
async function downloadWithApt(
  debs: LockedDeb[],
  tmp: string,
  arch: string,
  signal?: AbortSignal,
): Promise<LockedDeb[]> {
  const gone = new Set<string>();
  let updated = false;
  // apt-get download stops at the first unknown version: drop those and try again.
  for (let attempt = 0; attempt < 4; attempt++) {
    const wanted = debs.filter((d) => !gone.has(d.name));
    try {
      await aptDownload(
        wanted.map(({ name, version }) => ({ name: debPackage(name), version })),
        tmp,
        signal,
        arch,
      );
      return debs.filter((d) => gone.has(d.name));
    } catch (err) {
      if (!(err instanceof AptMissingError) || err.missing.length === 0) throw err;
      if (!updated) {
        updated = true;
        if (isForeignArch(arch)) await aptUpdateForeign(arch, signal ? { signal } : {});
        else await aptUpdate(signal);
        continue;
      }
      for (const m of err.missing) gone.add(debKeyOf(m.name, arch));
    }
  }
  throw new EnvironmentError(
    'apt-get download kept failing on missing versions',
    'run apt-get update and retry',
  );
}

/**
 * Fetch the locked file, by its exact name, from the first folder apt knows for the
 * package that serves it, into `tmp`. Its sha256 is checked with every other download.
 */
export async function downloadFromPool(
  deb: LockedDeb,
  tmp: string,
  signal?: AbortSignal,
  arch?: string,
): Promise<boolean> {
  // Only a file named as Debian names this exact version: the lock's entry must agree with itself.
  if (deb.filename !== debianFileName({ ...deb, name: debPackage(deb.name) })) return false;
  for (const folder of await aptPoolFolders(debPackage(deb.name), signal, arch)) {
    const url = `${folder}${encodeURIComponent(deb.filename)}`;
    const res = await fetch(url, signal ? { signal } : {}).catch(() => undefined);
    signal?.throwIfAborted();
    if (!res?.ok || !res.body) continue;
    const part = join(tmp, `${deb.filename}.part`);
    await pipeline(
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
      createWriteStream(part),
    );
    await rename(part, join(tmp, deb.filename));
    return true;
  }
  return false;
}

/** `NAME_VERSION_ARCH.deb`, the version without its epoch, as in the Debian archive. */
export function debianFileName(deb: Pick<LockedDeb, 'name' | 'version' | 'arch'>): string {
  return `${deb.name}_${deb.version.replace(/^\d+:/, '')}_${deb.arch}.deb`;
}

/** Add every deb not yet in the store; the cache file name is already the store name. */
async function seedDebs(dir: string, debs: LockedDeb[]): Promise<number> {
  const want = new Map(debs.map((d) => [flatFixedPath(d.sha256, d.storeName), d]));
  const invalid = await invalidPaths([...want.keys()]);
  const toAdd = [...invalid].map((p) => want.get(p) as LockedDeb);
  const added = await addFixed(toAdd.map((d) => join(dir, d.storeName)));
  added.forEach((path, i) => {
    const deb = toAdd[i] as LockedDeb;
    const expected = flatFixedPath(deb.sha256, deb.storeName);
    if (path !== expected)
      throw new EnvironmentError(
        `nix stored ${deb.name} at ${path}, expected ${expected}`,
        'report this: the store path computation disagrees with nix',
      );
  });
  return added.length;
}

/**
 * The bootstrap builder: /bin/busybox from the verified busybox-static deb, as a
 * directory store path whose NAR hash is locked (so the flake can name it).
 */
async function seedBusybox(dir: string, lock: DebLock): Promise<string> {
  const bb = lock.busybox;
  const expected = recursiveFixedPath(bb.narHash, bb.storeName);
  if ((await invalidPaths([expected])).size === 0) return expected;
  const deb = lock.debs[bb.deb];
  if (!deb) throw new EnvironmentError(`busybox deb ${bb.deb} is not locked`, `re-lock: ${RELOCK_COMMAND}`);
  const tree = await extractBusyboxTree(join(dir, deb.storeName), bb.path, bb.storeName);
  try {
    const [path] = await addFixed([tree.root], true);
    if (path !== expected) {
      throw new EnvironmentError(
        `busybox from ${bb.deb} ${deb.version} was stored at ${path}, but the lock's narHash ${bb.narHash} gives ${expected}`,
        `re-lock: ${RELOCK_COMMAND}`,
      );
    }
    return expected;
  } finally {
    await rm(tree.tmp, { recursive: true, force: true });
  }
}

/** `<tmp>/<storeName>/bin/busybox`, mode 0755: the shape the flake's builder path expects. */
export async function extractBusyboxTree(
  debFile: string,
  pathInDeb: string,
  storeName: string,
): Promise<{ tmp: string; root: string }> {
  const tmp = await mkdtemp(join(cacheDir(), '.busybox-'));
  const unpacked = join(tmp, 'deb');
  await runTool('dpkg-deb', ['-x', debFile, unpacked], { install: DPKG_INSTALL });
  const root = join(tmp, storeName);
  await mkdir(join(root, 'bin'), { recursive: true });
  await copyFile(join(unpacked, pathInDeb), join(root, 'bin', 'busybox'));
  await chmod(join(root, 'bin', 'busybox'), 0o755);
  return { tmp, root };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
