/**
 * The sonames a .deb provides: the DT_SONAME of every shared object in its data, read from the
 * bytes (any architecture). Recorded in the lock for the packages of initrd sets, so the load
 * check can name the package that provides a library an initrd lacks: the lock holds no file
 * lists, and Debian's own shlibs/symbols files are optional and name library stems, not files.
 */
import { execa } from 'execa';
import tarStream from 'tar-stream';
import { readElf } from '../initrd/elf.js';
import { EnvironmentError } from '../util/errors.js';

/** Names the loader could map: `libz.so.1.2.13`, `ld-linux-aarch64.so.1`, `libfoo-1.2.so`. */
const SHARED_OBJECT = /\.so(\.[0-9][0-9A-Za-z.]*)?$/;

/** Sorted, unique DT_SONAMEs of the regular `*.so*` files in `debFile`'s data. */
export async function debSonames(debFile: string): Promise<string[]> {
  const child = execa('dpkg-deb', ['--fsys-tarfile', debFile], { buffer: false, stderr: 'pipe' });
  const found = new Set<string>();
  const extract = tarStream.extract();
  const read = (async () => {
    for await (const entry of extract) {
      const wanted = entry.header.type === 'file' && SHARED_OBJECT.test(entry.header.name);
      const chunks: Buffer[] = [];
      for await (const chunk of entry) if (wanted) chunks.push(chunk as Buffer);
      const soname = wanted ? readElf(Buffer.concat(chunks))?.soname : undefined;
      if (soname) found.add(soname);
    }
  })();
  child.stdout.pipe(extract);
  try {
    await Promise.all([child, read]);
  } catch (err) {
    throw new EnvironmentError(
      `could not read the shared objects of ${debFile}: ${(err as Error).message.split('\n')[0]}`,
      'dpkg-deb must be installed (apt-get install -y dpkg); fetch the deb again if it is damaged',
    );
  }
  return [...found].sort();
}
