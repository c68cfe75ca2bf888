/**
 * The initrd load check (src/initrd/): ELF facts read from the bytes, and every program's
 * loader and DT_NEEDED libraries looked up inside the tree the way glibc's loader would
 * (RUNPATH/RPATH with $ORIGIN, the multiarch folders, links re-rooted at the tree).
 * The ELF files are made here, so the test needs no binaries of any architecture.
 */
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertInitrdTreesLoad } from '../../src/imagebuild/initrdTrees.js';
import { readElf } from '../../src/initrd/elf.js';
import { checkLoads, resolveInTree } from '../../src/initrd/loadCheck.js';
import { debSonames } from '../../src/offline/debSonames.js';
import type { DebLock } from '../../src/offline/debsLock.js';
import { ConfigError } from '../../src/util/errors.js';

const X86_64 = 62;
const AARCH64 = 183;

/** A minimal 64-bit little-endian ET_DYN: one PT_LOAD mapping the file at address 0x1000. */
function elf(opts: {
  machine?: number;
  interp?: string;
  needed?: string[];
  runpath?: string;
  rpath?: string;
  soname?: string;
}) {
  const base = 0x1000;
  const strings: string[] = [];
  const strtab: number[] = [0];
  const add = (s: string) => {
    const at = strtab.length;
    strtab.push(...Buffer.from(`${s}\0`, 'latin1'));
    strings.push(s);
    return at;
  };
  const dyn: Array<[number, number]> = [];
  for (const n of opts.needed ?? []) dyn.push([1, add(n)]);
  if (opts.rpath) dyn.push([15, add(opts.rpath)]);
  if (opts.runpath) dyn.push([29, add(opts.runpath)]);
  if (opts.soname) dyn.push([14, add(opts.soname)]);
  const phnum = 2 + (opts.interp ? 1 : 0);
  const phoff = 64;
  const interpAt = phoff + phnum * 56;
  const interp = opts.interp ? Buffer.from(`${opts.interp}\0`, 'latin1') : Buffer.alloc(0);
  const strAt = interpAt + interp.length;
  const dynAt = (strAt + strtab.length + 7) & ~7;
  dyn.push([5, base + strAt], [0, 0]);
  const size = dynAt + dyn.length * 16;
  const b = Buffer.alloc(size);
  b.write('\x7fELF', 0, 'latin1');
  b[4] = 2;
  b[5] = 1;
  b[6] = 1;
  b.writeUInt16LE(3, 16);
  b.writeUInt16LE(opts.machine ?? X86_64, 18);
  b.writeBigUInt64LE(BigInt(phoff), 0x20);
  b.writeUInt16LE(56, 0x36);
  b.writeUInt16LE(phnum, 0x38);
  const ph = (i: number, type: number, offset: number, filesz: number) => {
    const at = phoff + i * 56;
    b.writeUInt32LE(type, at);
    b.writeBigUInt64LE(BigInt(offset), at + 8);
    b.writeBigUInt64LE(BigInt(base + offset), at + 16);
    b.writeBigUInt64LE(BigInt(filesz), at + 32);
  };
  ph(0, 1, 0, size);
  ph(1, 2, dynAt, dyn.length * 16);
  if (opts.interp) ph(2, 3, interpAt, interp.length);
  interp.copy(b, interpAt);
  Buffer.from(strtab).copy(b, strAt);
  dyn.forEach(([tag, value], i) => {
    b.writeBigInt64LE(BigInt(tag), dynAt + i * 16);
    b.writeBigUInt64LE(BigInt(value), dynAt + i * 16 + 8);
  });
  return b;
}

let root = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'rr-loadcheck-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(path: string, data: Buffer | string) {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), data);
}
async function link(path: string, target: string) {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await symlink(target, join(root, path));
}

/** A usr-merged Debian amd64 tree: /lib64 and /lib are links, the loader is a link too. */
async function debianTree(python: Buffer) {
  await link('lib', 'usr/lib');
  await link('lib64', 'usr/lib64');
  await link('usr/lib64/ld-linux-x86-64.so.2', '../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2');
  await put('usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', elf({}));
  await put('usr/lib/x86_64-linux-gnu/libc.so.6', elf({ interp: '/lib64/ld-linux-x86-64.so.2' }));
  await put('usr/lib/x86_64-linux-gnu/libz.so.1.2.13', elf({ needed: ['libc.so.6'] }));
  await link('usr/lib/x86_64-linux-gnu/libz.so.1', 'libz.so.1.2.13');
  await put('usr/bin/python3.11', python);
  await put('usr/share/readme.txt', 'not ELF');
}

describe('initrd load check', () => {
  it('reads the loader, the needed libraries and the search paths from the ELF bytes', () => {
    const facts = readElf(
      elf({
        machine: AARCH64,
        interp: '/lib/ld-linux-aarch64.so.1',
        needed: ['libz.so.1', 'libc.so.6'],
        runpath: '$ORIGIN/../lib:/opt',
        soname: 'libown.so.2',
      }),
    );
    expect(facts).toEqual({
      machine: AARCH64,
      bits: 64,
      interpreter: '/lib/ld-linux-aarch64.so.1',
      needed: ['libz.so.1', 'libc.so.6'],
      rpath: [],
      runpath: ['$ORIGIN/../lib', '/opt'],
      soname: 'libown.so.2',
    });
    expect(readElf(Buffer.from('#!/bin/sh\n'))).toBeUndefined();
  });

  it('passes a tree whose programs find their loader and libraries through links, multiarch folders and $ORIGIN', async () => {
    await debianTree(
      elf({
        interp: '/lib64/ld-linux-x86-64.so.2',
        needed: ['libc.so.6', 'libz.so.1', 'libown.so'],
        runpath: '$ORIGIN/../lib/own',
      }),
    );
    await put('usr/bin/../lib/own/libown.so', elf({ needed: ['libc.so.6'] }));
    expect(await checkLoads(root)).toEqual([]);
  });

  it('names the file and the soname when a library of the closure is missing', async () => {
    await debianTree(
      elf({ interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libc.so.6', 'libexpat.so.1', 'libz.so.1'] }),
    );
    expect(await checkLoads(root)).toEqual([
      { file: 'usr/bin/python3.11', needs: 'libexpat.so.1', kind: 'library' },
    ]);
  });

  it('names a missing loader, and does not count a library of another machine as found', async () => {
    await debianTree(elf({ interp: '/lib/ld-linux-aarch64.so.1', needed: ['libc.so.6'], machine: AARCH64 }));
    expect(await checkLoads(root)).toEqual([
      { file: 'usr/bin/python3.11', needs: '/lib/ld-linux-aarch64.so.1', kind: 'interpreter' },
      { file: 'usr/bin/python3.11', needs: 'libc.so.6', kind: 'library' },
    ]);
  });

  it('keeps link resolution inside the tree: an absolute or climbing link never reaches the host', async () => {
    await link('usr/lib/x86_64-linux-gnu/libc.so.6', '/../../../../../usr/lib/x86_64-linux-gnu/libc.so.6');
    await put('usr/bin/prog', elf({ needed: ['libc.so.6'] }));
    // The host has /usr/lib/x86_64-linux-gnu/libc.so.6; the tree does not.
    expect(await resolveInTree(root, '/usr/lib/x86_64-linux-gnu/libc.so.6')).toBeUndefined();
    expect(await checkLoads(root)).toEqual([{ file: 'usr/bin/prog', needs: 'libc.so.6', kind: 'library' }]);
  });

  it('counts /etc/ld.so.conf folders only when the tree has the ld.so.cache that makes the loader use them', async () => {
    await debianTree(elf({ interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libc.so.6', 'libextra.so.1'] }));
    await put('opt/extra/libextra.so.1', elf({}));
    await put('etc/ld.so.conf', 'include /etc/ld.so.conf.d/*.conf\n');
    await put('etc/ld.so.conf.d/extra.conf', '# extra\n/opt/extra\n');
    expect(await checkLoads(root)).toEqual([
      { file: 'usr/bin/python3.11', needs: 'libextra.so.1', kind: 'library' },
    ]);
    await put('etc/ld.so.cache', 'cache');
    expect(await checkLoads(root)).toEqual([]);
  });
});

describe('naming the package that provides what an initrd lacks', () => {
  const entry = (sonames: string[], arch = 'amd64') => ({
    version: '1',
    arch,
    filename: 'x.deb',
    sha256: '0'.repeat(64),
    size: 1,
    storeName: 'x=1=amd64.deb',
    sonames,
  });
  /** A lock whose amd64 and arm64 libexpat1 and libc6 record their sonames (as relock writes them). */
  const lock = {
    version: 1,
    distribution: 'debian bookworm amd64',
    busybox: { deb: 'busybox-static', path: 'bin/busybox', storeName: 'busybox-1', narHash: 'sha256-x' },
    sets: {
      'initrd-test': { roots: ['python3.11-minimal'], closure: true, arch: 'amd64', debs: [] },
      'initrd-test-arm64': { roots: ['python3.11-minimal'], closure: true, arch: 'arm64', debs: [] },
    },
    debs: {
      libexpat1: entry(['libexpat.so.1']),
      'libexpat1:arm64': entry(['libexpat.so.1'], 'arm64'),
      libc6: entry(['ld-linux-x86-64.so.2', 'libc.so.6']),
      'libc6:arm64': entry(['ld-linux-aarch64.so.1', 'libc.so.6'], 'arm64'),
      'python3.11-minimal': entry([]),
    },
  } as unknown as DebLock;

  /** An initrd tree as the flake stores it: /nix/store/<32 chars>-SET/{root,manifest}. */
  async function storeTree(set: string): Promise<string> {
    const path = join(root, `${'a'.repeat(32)}-${set}`);
    await mkdir(join(path, 'root'), { recursive: true });
    await writeFile(join(path, 'manifest'), '# test\n');
    return path;
  }

  it("names the locked package of the set's architecture whose sonames include the missing one (exit 2, the set re-locked in the hint)", async () => {
    const tree = await storeTree('initrd-test');
    await mkdir(join(tree, 'root/usr/bin'), { recursive: true });
    await writeFile(
      join(tree, 'root/usr/bin/python3.11'),
      elf({ interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libexpat.so.1', 'libunknown.so.3'] }),
    );
    const err = await assertInitrdTreesLoad([tree], async () => lock).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    const text = (err as ConfigError).message;
    expect(text).toContain(
      'set initrd-test: usr/bin/python3.11 asks for the loader /lib64/ld-linux-x86-64.so.2, which the tree does not have; package libc6 provides it',
    );
    expect(text).toContain(
      'set initrd-test: usr/bin/python3.11 needs libexpat.so.1, which no folder the loader searches in the tree has; package libexpat1 provides it',
    );
    // Where the lock cannot tell, it says nothing rather than guess.
    expect(text).toMatch(
      /usr\/bin\/python3\.11 needs libunknown\.so\.3, which no folder the loader searches in the tree has$/m,
    );
    expect((err as ConfigError).hint).toContain('add libc6, libexpat1 to the roots of initrd-test');
    expect((err as ConfigError).hint).toContain('--set initrd-test');
  });

  it('names the arm64 package for an arm64 set, and still fails without naming one when the lock cannot be read', async () => {
    const tree = await storeTree('initrd-test-arm64');
    await mkdir(join(tree, 'root/usr/bin'), { recursive: true });
    await writeFile(join(tree, 'root/usr/bin/prog'), elf({ machine: AARCH64, needed: ['libexpat.so.1'] }));
    const named = await assertInitrdTreesLoad([tree], async () => lock).catch((e: unknown) => e);
    expect((named as ConfigError).message).toContain(
      'needs libexpat.so.1, which no folder the loader searches in the tree has; package libexpat1 provides it',
    );
    const unnamed = await assertInitrdTreesLoad([tree], async () => undefined).catch((e: unknown) => e);
    expect((unnamed as ConfigError).exitCode).toBe(2);
    expect((unnamed as ConfigError).message).not.toContain('provides it');
  });

  it('reads the DT_SONAME of each shared object in a .deb (links and other files ignored)', async () => {
    const pkg = join(root, 'pkg');
    await mkdir(join(pkg, 'DEBIAN'), { recursive: true });
    await writeFile(
      join(pkg, 'DEBIAN/control'),
      'Package: libtest1\nVersion: 1\nArchitecture: arm64\nMaintainer: t <t@t>\nDescription: t\n',
    );
    const lib = join(pkg, 'usr/lib/aarch64-linux-gnu');
    await mkdir(lib, { recursive: true });
    await writeFile(join(lib, 'libtest.so.1.2.3'), elf({ machine: AARCH64, soname: 'libtest.so.1' }));
    await symlink('libtest.so.1.2.3', join(lib, 'libtest.so.1'));
    await writeFile(join(lib, 'libplugin-2.0.so'), elf({ machine: AARCH64, soname: 'libplugin-2.0.so' }));
    await writeFile(join(lib, 'nosoname.so'), elf({ machine: AARCH64 }));
    await writeFile(join(lib, 'notes.so.txt'), elf({ soname: 'libnot.so.9' }));
    await mkdir(join(pkg, 'usr/bin'), { recursive: true });
    await writeFile(join(pkg, 'usr/bin/tool'), elf({ machine: AARCH64, soname: 'libtool-not.so.1' }));
    await chmod(join(pkg, 'usr/bin/tool'), 0o755);
    await execa('dpkg-deb', ['--root-owner-group', '--build', pkg, join(root, 'libtest1.deb')]);
    expect(await debSonames(join(root, 'libtest1.deb'))).toEqual(['libplugin-2.0.so', 'libtest.so.1']);
  });
});
