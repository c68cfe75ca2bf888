/**
 * The sonames a .deb provides: the DT_SONAME of every shared object in its data, read from the
 * bytes (any architecture). Recorded in the lock for the packages of initrd sets, so the load
 * check can name the package that provides a library an initrd lacks: the lock holds no file
 * lists, and Debian's own shlibs/symbols files are optional and name library stems, not files.
 */
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { readElf } from '../initrd/elf.js';
import { EnvironmentError } from '../util/errors.js';
import { runToolStream } from '../util/tool.js';

/** How to get dpkg-deb, for every caller that unpacks a deb. */
export const DPKG_INSTALL = 'install it: apt-get install -y dpkg';

/** Names the loader could map: `libz.so.1.2.13`, `ld-linux-aarch64.so.1`, `libfoo-1.2.so`. */
const SHARED_OBJECT = /\.so(\.[0-9][0-9A-Za-z.]*)?$/;

/** Sorted, unique DT_SONAMEs of the regular `*.so*` files in `debFile`'s data. */
export async function debSonames(debFile: string): Promise<string[]> {
  const found = new Set<string>();
  const damaged = (why: string, cause: unknown) =>
    new EnvironmentError(
      `could not read the shared objects of ${debFile}: ${why.split('\n')[0]}`,
      'fetch the deb again if it is damaged',
      { cause },
    );
  try {
    await runToolStream(
      'dpkg-deb',
      ['--fsys-tarfile', debFile],
      { install: DPKG_INSTALL, failed: (message, cause) => damaged(message, cause) },
      (tar) => sonamesOf(tar, found),
    );
  } catch (err) {
    // A tar the reader cannot parse: the same complaint as a failed dpkg-deb.
    throw err instanceof EnvironmentError ? err : damaged((err as Error).message, err);
  }
  return [...found].sort();
}

async function sonamesOf(tar: Readable, found: Set<string>): Promise<void> {
  const extract = tarStream.extract();
  tar.pipe(extract);
  for await (const entry of extract) {
    const wanted = entry.header.type === 'file' && SHARED_OBJECT.test(entry.header.name);
    const chunks: Buffer[] = [];
    for await (const chunk of entry) if (wanted) chunks.push(chunk as Buffer);
    const soname = wanted ? readElf(Buffer.concat(chunks))?.soname : undefined;
    if (soname) found.add(soname);
  }
}
