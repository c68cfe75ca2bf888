/**
 * The load check at image build time: every initrd tree an image carries (an offline set
 * named `initrd-*`, built by pins/offline/initrd.sh into `root/` and `manifest`) must load
 * its programs from its own files. A gap is the declaration's fault: exit 2, naming the set,
 * the file and the soname, and the locked package that provides it when the lock knows one,
 * before any board builds an initrd that would not boot.
 */
import { existsSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { checkLoads, type MissingLoad } from '../initrd/loadCheck.js';
import { type DebLock, debKeyOf, debPackage, LOCK_FILE, RELOCK_COMMAND } from '../offline/debsLock.js';
import { ConfigError } from '../util/errors.js';

/** `/nix/store/<hash>-initrd-NAME` holding `root/` and `manifest`: the set's name, else undefined. */
export function initrdSetOf(storePath: string): string | undefined {
  const name = basename(storePath).replace(/^[0-9a-z]{32}-/, '');
  if (!name.startsWith('initrd-')) return undefined;
  return existsSync(join(storePath, 'root')) && existsSync(join(storePath, 'manifest')) ? name : undefined;
}

/**
 * The packages of the set's architecture whose recorded sonames (the lock's `sonames`, read
 * from each deb at lock time) include what is missing: a library's soname, or a loader's file
 * name (ld-linux-x86-64.so.2 is its own soname). Empty when the lock cannot tell.
 */
export function providersOf(lock: DebLock | undefined, set: string, missing: MissingLoad): string[] {
  if (!lock) return [];
  const arch = lock.sets[set]?.arch;
  const wanted = missing.kind === 'interpreter' ? posix.basename(missing.needs) : missing.needs;
  return Object.entries(lock.debs)
    .filter(([key, e]) => debKeyOf(debPackage(key), arch) === key && e.sonames?.includes(wanted))
    .map(([key]) => debPackage(key))
    .sort();
}

function problemText(set: string, m: MissingLoad, providers: string[]): string {
  const what =
    m.kind === 'interpreter'
      ? `set ${set}: ${m.file} asks for the loader ${m.needs}, which the tree does not have`
      : `set ${set}: ${m.file} needs ${m.needs}, which no folder the loader searches in the tree has`;
  if (providers.length === 0) return what;
  return `${what}; package ${providers.join(' or ')} provides it`;
}

/**
 * Throws a ConfigError (exit 2) listing every missing loader and library of the initrd trees
 * among `storePaths`. `lock` (read only when something is missing) names the providers.
 */
export async function assertInitrdTreesLoad(
  storePaths: readonly string[],
  lock: () => Promise<DebLock | undefined> = async () => undefined,
): Promise<void> {
  const found: Array<{ set: string; missing: MissingLoad }> = [];
  for (const path of [...storePaths].sort()) {
    const set = initrdSetOf(path);
    if (!set) continue;
    for (const missing of await checkLoads(join(path, 'root'))) found.push({ set, missing });
  }
  if (found.length === 0) return;
  const locked = await lock();
  const providers = found.map(({ set, missing }) => providersOf(locked, set, missing));
  const named = [...new Set(providers.flat())].sort();
  const sets = [...new Set(found.map((f) => f.set))];
  throw new ConfigError(
    found.map(({ set, missing }, i) => ({
      file: LOCK_FILE,
      line: 1,
      col: 1,
      message: problemText(set, missing, providers[i] ?? []),
    })),
    named.length > 0
      ? `add ${named.join(', ')} to the roots of ${sets.join(', ')} in ${LOCK_FILE}, then re-lock: ${RELOCK_COMMAND} ${sets.map((n) => `--set ${n}`).join(' ')}`
      : `add the package that provides it to the set's roots in ${LOCK_FILE}, then re-lock: ${RELOCK_COMMAND}`,
  );
}
