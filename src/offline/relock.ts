/**
 * Re-locking: resolve each set's root packages with apt (as if nothing were
 * installed) to exact name + version + sha256, and compute the bootstrap
 * busybox's NAR hash. Run by scripts/lock-offline-debs.ts; fetch never re-locks.
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { canonicalJson } from '../image/digest.js';
import { nix } from '../nix/nix.js';
import { writeFileAtomic } from '../util/atomic.js';
import { EnvironmentError } from '../util/errors.js';
import { cacheDir } from '../util/paths.js';
import { sha256File } from '../util/sha256.js';
import {
  aptDownload,
  aptResolve,
  aptShow,
  aptUpdateForeign,
  type DebInfo,
  type DebSpec,
  isForeignArch,
} from './apt.js';
import { debSonames } from './debSonames.js';
import { type DebEntry, type DebLock, debKeyOf, isInitrdSet, LOCK_FILE, parseDebLock } from './debsLock.js';
import { cacheVerifiedDebs, debsCacheDir, extractBusyboxTree } from './fetch.js';
import { sanitizeStoreName, storeNameOf } from './storePath.js';

const HOST_TOOLS = [
  'bash',
  'dash',
  'coreutils',
  'debianutils',
  'sed',
  'grep',
  'gawk',
  'findutils',
  'diffutils',
  'patch',
  'file',
  'tar',
  'cpio',
  'gzip',
  'bzip2',
  'xz-utils',
  'xxd',
  'perl-base',
  'python3',
  'make',
  'gcc',
  'binutils',
  'libc6-dev',
  'm4',
  'bison',
  'flex',
  'bc',
  'pkgconf',
  'libssl-dev',
  'device-tree-compiler',
  'acpica-tools',
];

/** The roots used when there is no lock yet; afterwards the lock's own roots are re-resolved. */
interface SetRoots {
  roots: string[];
  closure: boolean;
  /** Another Debian architecture than the lock's (an initrd for an arm64 machine). */
  arch?: string;
}

export const DEFAULT_SETS: Record<string, SetRoots> = {
  toolchain: { roots: HOST_TOOLS, closure: true },
  'toolchain-riscv64': { roots: [...HOST_TOOLS, 'gcc-riscv64-linux-gnu'], closure: true },
  // Static binaries: their Debian dependencies are only maintainer-script noise.
  'bash-static': { roots: ['bash-static'], closure: false },
  busybox: { roots: ['busybox-static'], closure: false },
};

export interface RelockResult {
  file: string;
  changed: boolean;
  debs: number;
  sets: Record<string, number>;
}

export async function relockOffline(
  workspaceRoot: string,
  log: (line: string) => void = () => {},
  opts: { only?: readonly string[] } = {},
): Promise<RelockResult> {
  const full = resolve(workspaceRoot, LOCK_FILE);
  const previousText = await readFile(full, 'utf8').catch(() => undefined);
  const previous = previousText ? (JSON.parse(previousText) as Partial<DebLock>) : undefined;
  // `only`: re-resolve these sets (a package added to an initrd's list); the others keep their
  // locked debs, so nothing else moves to a newer version.
  const only = opts.only;
  for (const name of only ?? [])
    if (!previous?.sets?.[name])
      throw new EnvironmentError(
        `${LOCK_FILE} has no set ${name}`,
        'add the set (its roots) to the lock first',
      );
  const { sets, keptDebs, versions } = await resolveSets(previous, only, log);
  const debs = await lockedDebs(versions, keptDebs);
  await recordSonames(sets, debs, previous?.debs ?? {}, log);
  const lock: DebLock = {
    version: 1,
    distribution: 'debian bookworm amd64',
    busybox: await lockedBusybox(previous, debs, only),
    sets,
    debs,
  };
  const text = `${canonicalJson(lock, 2)}\n`;
  parseDebLock(text); // never write a lock the reader would refuse
  const changed = text !== previousText;
  if (changed) await writeFileAtomic(full, text);
  return {
    file: LOCK_FILE,
    changed,
    debs: Object.keys(debs).length,
    sets: Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, v.debs.length])),
  };
}

/** The sets' roots as the previous lock has them (or the defaults for a first lock). */
function rootsOf(previous: Partial<DebLock> | undefined): Record<string, SetRoots> {
  if (!previous?.sets) return DEFAULT_SETS;
  return Object.fromEntries(
    Object.entries(previous.sets).map(([k, v]) => [
      k,
      { roots: v.roots, closure: v.closure !== false, ...(v.arch ? { arch: v.arch } : {}) },
    ]),
  );
}

/**
 * Every set resolved by apt (or kept as locked when `only` leaves it out), and per
 * architecture the one version of each package the resolved sets use.
 */
async function resolveSets(
  previous: Partial<DebLock> | undefined,
  only: readonly string[] | undefined,
  log: (line: string) => void,
): Promise<{
  sets: DebLock['sets'];
  keptDebs: Record<string, DebEntry>;
  versions: Map<string, Map<string, string>>;
}> {
  const kept = (set: string) => only !== undefined && !only.includes(set);
  const sets: DebLock['sets'] = {};
  const keptDebs: Record<string, DebEntry> = {};
  // Per architecture: package name → version (one version of a package per architecture).
  const versions = new Map<string, Map<string, string>>();
  for (const [set, { roots: r, closure, arch }] of Object.entries(rootsOf(previous)).sort()) {
    const locked = previous?.sets?.[set];
    if (kept(set) && locked) {
      sets[set] = locked;
      for (const key of locked.debs) {
        const entry = previous?.debs?.[key];
        if (entry) keptDebs[key] = entry;
      }
      continue;
    }
    // Another architecture's packages come from reprorom's own indexes of it, as board inputs do.
    if (arch !== undefined && isForeignArch(arch)) await aptUpdateForeign(arch, { onlyIfMissing: true });
    const all = await aptResolve(r, arch);
    const resolved = closure ? all : all.filter((d) => r.includes(d.name));
    log(`${set}: ${r.length} roots → ${resolved.length} debs${arch ? ` (${arch})` : ''}`);
    const archKey = debKeyOf('', arch);
    const ofArch = versions.get(archKey) ?? new Map<string, string>();
    versions.set(archKey, ofArch);
    for (const { name, version } of resolved) {
      const seen = ofArch.get(name);
      if (seen && seen !== version)
        throw new EnvironmentError(
          `apt resolved ${name} to ${seen} and ${version} in different sets`,
          'run apt-get update and lock again',
        );
      ofArch.set(name, version);
    }
    sets[set] = {
      roots: [...r],
      closure,
      ...(arch ? { arch } : {}),
      debs: resolved.map((d) => debKeyOf(d.name, arch)),
    };
  }
  return { sets, keptDebs, versions };
}

/** The lock entry of every package version the sets use, as apt shows it, beside the kept ones. */
async function lockedDebs(
  versions: Map<string, Map<string, string>>,
  keptDebs: Record<string, DebEntry>,
): Promise<Record<string, DebEntry>> {
  const entryOf = (i: DebInfo): DebEntry => ({
    version: i.version,
    arch: i.arch,
    filename: i.filename,
    sha256: i.sha256,
    size: i.size,
    storeName: storeNameOf(i.name, i.version, i.arch),
  });
  const debs: Record<string, DebEntry> = { ...keptDebs };
  for (const [archKey, ofArch] of [...versions].sort()) {
    const arch = archKey === '' ? undefined : archKey.slice(1);
    const specs: DebSpec[] = [...ofArch].sort().map(([name, version]) => ({ name, version }));
    for (const i of await aptShow(specs, arch)) {
      const key = debKeyOf(i.name, arch);
      const held = keptDebs[key];
      if (held && held.version !== i.version)
        throw new EnvironmentError(
          `apt resolved ${key} to ${i.version}, but another set has it locked at ${held.version}`,
          'lock every set again (without --set), or give the set an arch of its own',
        );
      debs[key] = entryOf(i);
    }
  }
  return debs;
}

/** The bootstrap busybox: its deb's version names the store path; its narHash is kept when that did not move. */
async function lockedBusybox(
  previous: Partial<DebLock> | undefined,
  debs: Record<string, DebEntry>,
  only: readonly string[] | undefined,
): Promise<DebLock['busybox']> {
  const bbDeb = previous?.busybox?.deb ?? 'busybox-static';
  const bbPath = previous?.busybox?.path ?? 'bin/busybox';
  const bbEntry = debs[bbDeb];
  if (!bbEntry)
    throw new EnvironmentError(`${bbDeb} is not in any set`, `add it to a set's roots in ${LOCK_FILE}`);
  const bbStoreName = sanitizeStoreName(`busybox-${bbEntry.version.replace(/^\d+:/, '')}`);
  const heldBusybox = previous?.busybox;
  const narHash =
    heldBusybox && heldBusybox.storeName === bbStoreName && only !== undefined
      ? heldBusybox.narHash
      : await busyboxNarHash(bbDeb, bbEntry, bbPath, bbStoreName);
  return { deb: bbDeb, path: bbPath, storeName: bbStoreName, narHash };
}

/**
 * The sonames of every package of an initrd set, read from the deb itself (downloaded into the
 * offline cache and checked against its locked sha256). A deb whose sha256 is unchanged keeps
 * what the previous lock recorded, so relocking one set reads only the debs that moved.
 */
async function recordSonames(
  sets: DebLock['sets'],
  debs: Record<string, DebEntry>,
  previous: Partial<Record<string, DebEntry>>,
  log: (line: string) => void,
): Promise<void> {
  const keys = [...new Set(Object.entries(sets).flatMap(([n, s]) => (isInitrdSet(n) ? s.debs : [])))].sort();
  const toRead: string[] = [];
  for (const key of keys) {
    const entry = debs[key];
    const held = previous[key];
    if (!entry) continue;
    if (held?.sonames && held.sha256 === entry.sha256) debs[key] = { ...entry, sonames: held.sonames };
    else toRead.push(key);
  }
  if (toRead.length === 0) return;
  log(`reading the shared objects of ${toRead.length} initrd packages`);
  await cacheVerifiedDebs(
    toRead.map((name) => ({ name, ...(debs[name] as DebEntry) })),
    { log },
  );
  for (const key of toRead) {
    const entry = debs[key] as DebEntry;
    const sonames = await debSonames(join(debsCacheDir(), entry.storeName));
    debs[key] = { ...entry, sonames }; // [] too: read, and none found
  }
}

/** Download the busybox deb, check it, and hash the `<name>/bin/busybox` tree as nix will store it. */
async function busyboxNarHash(
  name: string,
  entry: DebEntry,
  pathInDeb: string,
  storeName: string,
): Promise<string> {
  await mkdir(cacheDir(), { recursive: true });
  const tmp = await mkdtemp(join(cacheDir(), '.relock-'));
  try {
    await aptDownload([{ name, version: entry.version }], tmp);
    const [file] = await readdir(tmp);
    if (!file)
      throw new EnvironmentError(`apt-get download ${name} produced no file`, 'run it by hand to see why');
    const actual = await sha256File(join(tmp, file));
    if (actual !== entry.sha256)
      throw new EnvironmentError(
        `${name} has sha256 ${actual}, apt says ${entry.sha256}`,
        'run apt-get update and lock again',
      );
    const tree = await extractBusyboxTree(join(tmp, file), pathInDeb, storeName);
    try {
      return await nix(['hash', 'path', '--type', 'sha256', '--sri', tree.root]);
    } finally {
      await rm(tree.tmp, { recursive: true, force: true });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
