/**
 * Booting an initrd with a Debian kernel, all real: the kernels and an arm64 busybox come as
 * `type: debian` inputs would (an arm64 package fetched on this amd64 host through reprorom's
 * own apt state for that architecture, checked by sha256), a busybox /init is packed as a newc
 * cpio, and `bootRun` boots it in QEMU (`-kernel -initrd -append` from reprorom, the board
 * gives none of it) on x86_64 `pc` and aarch64 `virt` with a cortex-a57.
 */
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootRun } from '../../src/boot/boot.js';
import { foreignAptDir, hostDebianArch } from '../../src/offline/apt.js';
import { SourceError } from '../../src/sources/errors.js';
import { type FileInput, fetchFileInput } from '../../src/sources/fileInputs.js';
import { boardSchema } from '../../src/workspace/schema.js';
import { inCi, type RealProbe, requireReal, skipUnlessReal } from '../helpers/real.js';
import { writeFakeRun } from '../helpers/runFolder.js';

/** bookworm-security on 2026-12-02 (`apt-cache policy linux-image-amd64`, and arm64 through reprorom's apt state). */
const KERNEL_AMD64: FileInput = {
  type: 'debian',
  package: 'linux-image-6.1.0-57-amd64',
  version: '6.1.192-3',
  arch: 'amd64',
  sha256: '14d219d01e1283261817d961dbb3895cb5b4288d0de10e0ba0632a0d993e15bf',
  path: 'kernel.deb',
};
const KERNEL_ARM64: FileInput = {
  type: 'debian',
  package: 'linux-image-6.1.0-57-arm64',
  version: '6.1.192-3',
  arch: 'arm64',
  sha256: '8301bd5b5b2cf8fd5e479832200c23e64eca0ae9ec45c487c5c318b1e44d4692',
  path: 'kernel.deb',
};
const BUSYBOX_ARM64: FileInput = {
  type: 'debian',
  package: 'busybox-static',
  version: '1:1.35.0-4+deb12u1+b1',
  arch: 'arm64',
  sha256: '732c9135564fc71337e0e05fb4da4d11e6c28c1834bce3e405e575afef2a52f5',
  path: 'busybox.deb',
};
const BANNER = 'reprorom initrd: busybox is up';

async function probe(): Promise<RealProbe> {
  try {
    for (const tool of ['qemu-system-x86_64', 'qemu-system-aarch64']) await execa(tool, ['--version']);
    await execa('cpio', ['--version']);
    await execa('apt-get', ['--version']);
    if (hostDebianArch() !== 'amd64')
      throw new Error(`the host is ${hostDebianArch()}, these pins are amd64 and arm64`);
    return { what: 'QEMU, cpio and apt', ok: true, reason: '' };
  } catch (err) {
    return {
      what: 'QEMU, cpio and apt (apt-get install -y qemu-system-x86 qemu-system-arm cpio)',
      ok: false,
      reason: String(err),
    };
  }
}

const qemu = await probe();
const temps: string[] = [];
const temp = async (prefix: string) => {
  const d = await mkdtemp(join(tmpdir(), prefix));
  temps.push(d);
  return d;
};

describe.skipIf(skipUnlessReal(qemu))('an initrd booted with a Debian kernel (real apt, real QEMU)', () => {
  let savedCache: string | undefined;
  let cache = '';
  beforeAll(async () => {
    if (inCi) requireReal(qemu);
    savedCache = process.env['REPROROM_CACHE'];
    // A cache of its own: the arm64 indexes and the packages are really fetched.
    cache = await temp('rr-initrd-cache-');
    process.env['REPROROM_CACHE'] = cache;
  });
  afterAll(async () => {
    if (savedCache === undefined) delete process.env['REPROROM_CACHE'];
    else process.env['REPROROM_CACHE'] = savedCache;
    await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('fetches an arm64 package on this amd64 host by its sha256, apt state kept in the cache', async () => {
    const got = await fetchFileInput(BUSYBOX_ARM64);
    expect(got.sha256).toBe(BUSYBOX_ARM64.sha256);
    expect(got.file.startsWith(cache)).toBe(true);
    const lists = await readdir(join(foreignAptDir('arm64'), 'lists'));
    expect(lists.some((f) => /_binary-arm64_Packages/.test(f))).toBe(true);
    expect(lists.some((f) => /_binary-amd64_/.test(f))).toBe(false);
    const info = await execa('dpkg-deb', ['--field', got.file, 'Package', 'Architecture']);
    expect(info.stdout).toBe('Package: busybox-static\nArchitecture: arm64');
  });

  it('refuses an arm64 package whose sha256 is not the pinned one, naming the package and both hashes', async () => {
    const wrong = '0'.repeat(64);
    const err = await fetchFileInput({ ...BUSYBOX_ARM64, sha256: wrong }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^cannot fetch the Debian package busybox-static 1:1\\.35\\.0-4\\+deb12u1\\+b1 \\(arm64\\) \\(busybox-static_1\\.35\\.0-4\\+deb12u1\\+b1_arm64\\.deb\\): sha256 mismatch for \\S+: expected ${wrong}, got ${BUSYBOX_ARM64.sha256}`,
      ),
    );
  });

  /** The kernel image out of a linux-image deb. */
  async function kernelOf(deb: string, into: string): Promise<string> {
    const dir = join(into, 'deb');
    await execa('dpkg-deb', ['-x', deb, dir]);
    const name = (await readdir(join(dir, 'boot'))).find((f) => f.startsWith('vmlinuz-'));
    if (!name) throw new Error(`no vmlinuz in ${deb}`);
    return join(dir, 'boot', name);
  }

  /** A newc initrd: a static busybox and an /init that prints the banner and powers off. */
  async function initrdWith(busybox: string, out: string): Promise<void> {
    const root = await temp('rr-initrd-root-');
    await mkdir(join(root, 'bin'));
    await copyFile(busybox, join(root, 'bin/busybox'));
    await chmod(join(root, 'bin/busybox'), 0o755);
    await writeFile(
      join(root, 'init'),
      `#!/bin/busybox sh\n/bin/busybox echo "${BANNER}"\n/bin/busybox poweroff -f\n`,
      { mode: 0o755 },
    );
    await execa('sh', ['-c', `find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -n > "$0"`, out], {
      cwd: root,
    });
  }

  async function boot(arch: 'x86_64' | 'aarch64', kernel: string, busybox: string) {
    const runDir = join(await temp('rr-initrd-run-'), 'runs/r/b/1');
    await writeFakeRun(runDir, {
      board: 'b',
      runId: 'r',
      index: 1,
      artifact: 'vmlinuz',
      bytes: '',
      durationMs: 1,
      narHash: 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      imageId: `sha256:${'0'.repeat(64)}`,
      sourceHash: '0'.repeat(64),
    });
    await copyFile(kernel, join(runDir, 'artifacts/vmlinuz'));
    await mkdir(join(runDir, 'artifacts/out'));
    await initrdWith(busybox, join(runDir, 'artifacts/out/initrd.cpio.gz'));
    const board = boardSchema.parse({
      image: 'i',
      commands: ['make'],
      artifacts: ['out/initrd.cpio.gz', 'vmlinuz'],
      boot: {
        ...(arch === 'x86_64' ? { machine: 'pc' } : { machine: 'virt', cpu: 'cortex-a57' }),
        arch,
        artifact: 'out/initrd.cpio.gz',
        as: 'initrd',
        kernel: 'vmlinuz',
        expect: 'reprorom initrd: busybox is up',
        timeout: 240,
      },
    });
    return bootRun({ boardName: 'b', board, runDir });
  }

  it('boots Debian amd64 kernel + busybox initrd on x86_64 pc: /init prints on ttyS0', async () => {
    const dir = await temp('rr-initrd-x86-');
    const kernel = await kernelOf((await fetchFileInput(KERNEL_AMD64)).file, dir);
    const r = await boot('x86_64', kernel, '/bin/busybox');
    const log = await readFile(r.log, 'utf8');
    expect(r.ok, `${r.message}\n${log.slice(-2000)}`).toBe(true);
    expect(r.matched).toBe(BANNER);
    expect(log).toMatch(
      /-kernel \S+\/kernel\.img -initrd \S+\/firmware\.img -append console=ttyS0 panic=-1 rdinit=\/init/,
    );
    expect(log).toContain('Linux version 6.1.0-57-amd64');
  });

  it('boots Debian arm64 kernel + arm64 busybox initrd on aarch64 virt (cortex-a57): /init prints on ttyAMA0', async () => {
    const dir = await temp('rr-initrd-arm-');
    const kernel = await kernelOf((await fetchFileInput(KERNEL_ARM64)).file, dir);
    const bb = join(dir, 'bb');
    await execa('dpkg-deb', ['-x', (await fetchFileInput(BUSYBOX_ARM64)).file, bb]);
    const r = await boot('aarch64', kernel, join(bb, 'bin/busybox'));
    const log = await readFile(r.log, 'utf8');
    expect(r.ok, `${r.message}\n${log.slice(-2000)}`).toBe(true);
    expect(r.matched).toBe(BANNER);
    expect(log).toMatch(/-M virt .*-cpu cortex-a57 .*-append console=ttyAMA0 panic=-1 rdinit=\/init/);
    expect(log).toContain('Linux version 6.1.0-57-arm64');
  });
});
