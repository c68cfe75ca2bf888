/**
 * The load check at image build time: every initrd tree an image carries (an offline set
 * named `initrd-*`, built by pins/offline/initrd.sh into `root/` and `manifest`) must load
 * its programs from its own files. A gap is the declaration's fault: exit 2, naming the set,
 * the file and the soname, before any board builds an initrd that would not boot.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checkLoads } from '../initrd/loadCheck.js';
import { LOCK_FILE, RELOCK_COMMAND } from '../offline/debsLock.js';
import { ConfigError } from '../util/errors.js';

/** `/nix/store/<hash>-initrd-NAME` holding `root/` and `manifest`: the set's name, else undefined. */
export function initrdSetOf(storePath: string): string | undefined {
  const name = basename(storePath).replace(/^[0-9a-z]{32}-/, '');
  if (!name.startsWith('initrd-')) return undefined;
  return existsSync(join(storePath, 'root')) && existsSync(join(storePath, 'manifest')) ? name : undefined;
}

export async function assertInitrdTreesLoad(storePaths: readonly string[]): Promise<void> {
  const problems: ConstructorParameters<typeof ConfigError>[0] = [];
  for (const path of [...storePaths].sort()) {
    const set = initrdSetOf(path);
    if (!set) continue;
    for (const m of await checkLoads(join(path, 'root'))) {
      problems.push({
        file: LOCK_FILE,
        line: 1,
        col: 1,
        message:
          m.kind === 'interpreter'
            ? `set ${set}: ${m.file} asks for the loader ${m.needs}, which the tree does not have`
            : `set ${set}: ${m.file} needs ${m.needs}, which no folder the loader searches in the tree has`,
      });
    }
  }
  if (problems.length > 0)
    throw new ConfigError(
      problems,
      `add the package that provides it to the set's roots in ${LOCK_FILE}, then re-lock: ${RELOCK_COMMAND}`,
    );
}
