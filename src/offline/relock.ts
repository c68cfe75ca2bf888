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
import { aptDownload, aptResolve, aptShow, type DebSpec } from './apt.js';
import { type DebEntry, type DebLock, LOCK_FILE, parseDebLock } from './debsLock.js';
import { extractBusyboxTree } from './fetch.js';
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
export const DEFAULT_SETS: Record<string, { roots: string[]; closure: boolean }> = {
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
): Promise<RelockResult> {
  const full = resolve(workspaceRoot, LOCK_FILE);
  const previousText = await readFile(full, 'utf8').catch(() => undefined);
  const previous = previousText ? (JSON.parse(previousText) as Partial<DebLock>) : undefined;
  const roots: Record<string, { roots: string[]; closure: boolean }> = previous?.sets
    ? Object.fromEntries(
        Object.entries(previous.sets).map(([k, v]) => [k, { roots: v.roots, closure: v.closure !== false }]),
      )
    : DEFAULT_SETS;

  const sets: DebLock['sets'] = {};
  const versions = new Map<string, string>();
  for (const [set, { roots: r, closure }] of Object.entries(roots).sort()) {
    const all = await aptResolve(r);
    const resolved = closure ? all : all.filter((d) => r.includes(d.name));
    log(`${set}: ${r.length} roots → ${resolved.length} debs`);
    for (const { name, version } of resolved) {
      const seen = versions.get(name);
      if (seen && seen !== version)
        throw new EnvironmentError(
          `apt resolved ${name} to ${seen} and ${version} in different sets`,
          'run apt-get update and lock again',
        );
      versions.set(name, version);
    }
    sets[set] = { roots: [...r], closure, debs: resolved.map((d) => d.name) };
  }
  const specs: DebSpec[] = [...versions].sort().map(([name, version]) => ({ name, version }));
  const infos = await aptShow(specs);
  const debs: Record<string, DebEntry> = {};
  for (const i of infos) {
    debs[i.name] = {
      version: i.version,
      arch: i.arch,
      filename: i.filename,
      sha256: i.sha256,
      size: i.size,
      storeName: storeNameOf(i.name, i.version, i.arch),
    };
  }

  const bbDeb = previous?.busybox?.deb ?? 'busybox-static';
  const bbPath = previous?.busybox?.path ?? 'bin/busybox';
  const bbEntry = debs[bbDeb];
  if (!bbEntry)
    throw new EnvironmentError(`${bbDeb} is not in any set`, `add it to a set's roots in ${LOCK_FILE}`);
  const bbStoreName = sanitizeStoreName(`busybox-${bbEntry.version.replace(/^\d+:/, '')}`);
  const narHash = await busyboxNarHash(bbDeb, bbEntry, bbPath, bbStoreName);

  const lock: DebLock = {
    version: 1,
    distribution: 'debian bookworm amd64',
    busybox: { deb: bbDeb, path: bbPath, storeName: bbStoreName, narHash },
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
    debs: specs.length,
    sets: Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, v.debs.length])),
  };
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
