/**
 * The initrd load check: every ELF program and library in a tree finds its dynamic loader
 * (PT_INTERP) and every library it needs (DT_NEEDED) inside that tree, where the loader would
 * look when the initrd runs. Reads files only (no ldd: it runs the program, and the tree is
 * often of another architecture).
 */
import { lstat, open, readdir, readFile, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { type ElfFacts, isElf, readElf } from './elf.js';

export interface MissingLoad {
  /** The ELF file, relative to the tree (`usr/bin/python3.11`). */
  file: string;
  /** The soname it needs, or the loader's path. */
  needs: string;
  kind: 'interpreter' | 'library';
}

/** Debian's multiarch triplet of an ELF machine: its loader's default folders. */
const TRIPLETS: Record<string, string> = {
  '62/64': 'x86_64-linux-gnu',
  '183/64': 'aarch64-linux-gnu',
  '3/32': 'i386-linux-gnu',
  '40/32': 'arm-linux-gnueabihf',
  '243/64': 'riscv64-linux-gnu',
};

/**
 * The folders glibc searches after a file's own RPATH/RUNPATH. Debian's loader has the
 * multiarch folders built in; /etc/ld.so.conf's folders count only through /etc/ld.so.cache
 * (ldconfig's output), so they are used when the tree has a cache.
 */
function defaultFolders(facts: ElfFacts, conf: string[]): string[] {
  const triplet = TRIPLETS[`${facts.machine}/${facts.bits}`];
  const multiarch = triplet ? [`/lib/${triplet}`, `/usr/lib/${triplet}`] : [];
  const wide = facts.bits === 64 && facts.machine === 62 ? ['/lib64', '/usr/lib64'] : [];
  return [...conf, ...multiarch, '/lib', '/usr/lib', ...wide];
}

/** Every missing loader or library in the tree at `root`, sorted by file then name. */
export async function checkLoads(root: string): Promise<MissingLoad[]> {
  const conf = await ldSoConfFolders(root);
  const missing: MissingLoad[] = [];
  const cache = new Map<string, ElfFacts | undefined>();
  const factsOf = async (path: string) => {
    if (!cache.has(path)) cache.set(path, await readElfFile(join(root, path)));
    return cache.get(path);
  };
  for (const file of await regularFiles(root)) {
    const facts = await factsOf(file);
    if (!facts) continue;
    if (facts.interpreter !== undefined) {
      const loader = await resolveInTree(root, facts.interpreter);
      if (loader === undefined) missing.push({ file, needs: facts.interpreter, kind: 'interpreter' });
    }
    // RUNPATH hides RPATH (the loader's rule); $ORIGIN is the file's own folder.
    const own = (facts.runpath.length > 0 ? facts.runpath : facts.rpath).map((d) =>
      d.replace(/\$\{?ORIGIN\}?/g, `/${posix.dirname(file)}`),
    );
    const folders = [...own, ...defaultFolders(facts, conf)];
    for (const soname of facts.needed) {
      let found = false;
      for (const folder of soname.includes('/') ? [''] : folders) {
        const candidate = await resolveInTree(
          root,
          soname.includes('/') ? soname : posix.join(folder, soname),
        );
        if (candidate === undefined) continue;
        const lib = await factsOf(candidate);
        // The loader skips a library of another machine or width and keeps looking.
        if (lib && lib.machine === facts.machine && lib.bits === facts.bits) {
          found = true;
          break;
        }
      }
      if (!found) missing.push({ file, needs: soname, kind: 'library' });
    }
  }
  return missing.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.needs < b.needs ? -1 : 1));
}

async function readElfFile(path: string): Promise<ElfFacts | undefined> {
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(4);
    await handle.read(head, 0, 4, 0);
    if (!isElf(head)) return undefined;
  } finally {
    await handle.close();
  }
  return readElf(await readFile(path));
}

/** Regular files under root (links not followed), relative, sorted. */
async function regularFiles(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const names = (await readdir(join(root, rel))).sort();
  for (const name of names) {
    const path = rel ? `${rel}/${name}` : name;
    const st = await lstat(join(root, path));
    if (st.isDirectory()) out.push(...(await regularFiles(root, path)));
    else if (st.isFile()) out.push(path);
  }
  return out;
}

/**
 * The regular file an absolute path names inside the tree, following links as the initrd's
 * kernel would (an absolute target starts again at the tree's root, `..` stops at it), or
 * undefined when there is none. Relative result, without a leading slash.
 */
export async function resolveInTree(root: string, path: string): Promise<string | undefined> {
  const pending = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    const here = [...done, part].join('/');
    const st = await lstat(join(root, here)).catch(() => undefined);
    if (!st) return undefined;
    if (st.isSymbolicLink()) {
      if (++hops > 40) return undefined;
      const target = await readlink(join(root, here));
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    if (pending.length > 0 && !st.isDirectory()) return undefined;
    if (pending.length === 0 && !st.isFile()) return undefined;
    done.push(part);
  }
  return done.length > 0 ? done.join('/') : undefined;
}

/** Folders listed in the tree's /etc/ld.so.conf (and its includes), when an ld.so.cache makes them count. */
async function ldSoConfFolders(root: string): Promise<string[]> {
  if ((await resolveInTree(root, '/etc/ld.so.cache')) === undefined) return [];
  const folders: string[] = [];
  const read = async (path: string, depth: number): Promise<void> => {
    const real = await resolveInTree(root, path);
    if (real === undefined || depth > 8) return;
    for (const raw of (await readFile(join(root, real), 'utf8')).split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) continue;
      const include = /^include\s+(\S+)$/.exec(line);
      if (!include) {
        folders.push(line);
        continue;
      }
      const pattern = include[1] as string;
      const dir = posix.dirname(pattern);
      const base = new RegExp(
        `^${posix
          .basename(pattern)
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      );
      const names = await readdir(join(root, dir)).catch(() => [] as string[]);
      for (const name of names.filter((n) => base.test(n)).sort()) await read(`${dir}/${name}`, depth + 1);
    }
  };
  await read('/etc/ld.so.conf', 0);
  return folders;
}
