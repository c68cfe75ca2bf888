/**
 * Where and as whom QEMU runs. A boot check runs a guest that came with a pull request in an
 * emulator on the host, so the emulator gets as little of the host as it can work with:
 * - as root, it runs as an unprivileged uid/gid (`setpriv`: no supplementary groups except
 *   the one of /dev/kvm, no capabilities, no-new-privs) in an empty network namespace
 *   (`unshare --net`: not even a loopback that answers);
 * - the only host file it can open is a read-only copy of the artifact in a private folder
 *   it may enter but not write; the console goes to a file descriptor reprorom opened.
 * Run by a normal user, QEMU already has that user's rights and no more; the QEMU options
 * (qemuArgs.ts) are the same either way.
 */
import { constants, statSync } from 'node:fs';
import { chmod, chown, copyFile, lstat, mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EnvironmentError } from '../util/errors.js';
import { findOnPath } from './watch.js';

/** The uid and gid QEMU runs as when reprorom is root: Debian's `nobody` / `nogroup`. */
export const BOOT_UID = 65534;
export const BOOT_GID = 65534;

/** The name of the artifact's copy: fixed, so no character of a board's path reaches QEMU's options. */
export const BOOT_IMAGE = 'firmware.img';
/** The name of the kernel's copy (`as: initrd`), fixed for the same reason. */
export const BOOT_KERNEL = 'kernel.img';

export function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

export interface BootFolder {
  dir: string;
  /** The artifact's read-only copy. */
  image: string;
  /** The kernel's read-only copy, when one was given (`as: initrd`). */
  kernel?: string;
  /** Where reprorom writes the console (QEMU gets it as its standard output, never this path). */
  console: string;
  remove(): Promise<void>;
}

/**
 * A private folder holding a read-only copy of `artifact` (a regular file: a link is refused,
 * so a run folder cannot hand QEMU another host file), and of `kernel` when given. As root:
 * the folder is root:nogroup 0750 and the copies 0440, so the unprivileged QEMU can read the
 * copies and write nothing.
 */
export async function bootFolder(
  artifact: string,
  opts: { kernel?: string; asRoot?: boolean } = {},
): Promise<BootFolder> {
  const asRoot = opts.asRoot ?? runningAsRoot();
  for (const file of [artifact, ...(opts.kernel === undefined ? [] : [opts.kernel])]) {
    const st = await lstat(file);
    if (!st.isFile()) throw new EnvironmentError(`the artifact ${file} is not a regular file`);
  }
  const base = await realpath(tmpdir());
  if (asRoot) assertEnterable(base);
  const dir = await mkdtemp(join(base, 'reprorom-boot-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const readOnlyCopy = async (from: string, name: string) => {
    const to = join(dir, name);
    await copyFile(from, to, constants.COPYFILE_EXCL);
    await chmod(to, 0o440);
    if (asRoot) await chown(to, 0, BOOT_GID);
    return to;
  };
  try {
    const image = await readOnlyCopy(artifact, BOOT_IMAGE);
    const kernel = opts.kernel === undefined ? undefined : await readOnlyCopy(opts.kernel, BOOT_KERNEL);
    if (asRoot) {
      await chown(dir, 0, BOOT_GID);
      await chmod(dir, 0o750);
    }
    return { dir, image, ...(kernel ? { kernel } : {}), console: join(dir, 'console.out'), remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** Every folder above the boot folder must let the unprivileged uid pass, or QEMU cannot read the copy. */
function assertEnterable(base: string): void {
  for (let d = base; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new EnvironmentError(
        `QEMU runs as uid ${BOOT_UID} and cannot enter ${d} (the temporary folder is ${base})`,
        'set TMPDIR to a folder everyone may enter, such as /tmp',
      );
    }
    if (dirname(d) === d) return;
  }
}

/**
 * The command that runs `qemu args…` confined. As root: unshare (new network namespace)
 * → setpriv (drop to BOOT_UID) → QEMU, each replacing the one before (one process, one pid).
 */
export async function confinedCommand(
  qemu: string,
  args: string[],
  opts: { asRoot?: boolean; kvm?: boolean } = {},
): Promise<{ command: string; args: string[] }> {
  if (!(opts.asRoot ?? runningAsRoot())) return { command: qemu, args };
  const unshare = findOnPath('unshare');
  const setpriv = findOnPath('setpriv');
  if (!unshare || !setpriv) {
    throw new EnvironmentError(
      'QEMU is never run as root, and dropping root needs setpriv and unshare, which are not installed',
      'apt-get install -y util-linux, or run reprorom boot as a normal user',
    );
  }
  // KVM stays usable if its device belongs to a group: that group only, nothing else.
  const kvmGroup = opts.kvm
    ? await stat('/dev/kvm').then(
        (s) => s.gid,
        () => undefined,
      )
    : undefined;
  const groups = kvmGroup !== undefined && kvmGroup !== 0 ? [`--groups=${kvmGroup}`] : ['--clear-groups'];
  return {
    command: unshare,
    args: [
      '--net',
      '--',
      setpriv,
      `--reuid=${BOOT_UID}`,
      `--regid=${BOOT_GID}`,
      ...groups,
      '--no-new-privs',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--',
      qemu,
      ...args,
    ],
  };
}
