import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOOT_IMAGE, BOOT_KERNEL, BOOT_UID, bootFolder, confinedCommand } from '../../src/boot/confine.js';
import { kernelCommandLine, qemuArgs, qemuBinary } from '../../src/boot/qemuArgs.js';
import { bootSchema } from '../../src/workspace/schema.js';

const seabios = bootSchema.parse({
  machine: 'pc',
  arch: 'x86_64',
  artifact: 'out/bios.bin',
  channel: 'debugcon',
  expect: 'SeaBIOS',
});
const uboot = bootSchema.parse({
  machine: 'virt',
  arch: 'riscv64',
  artifact: 'u-boot.bin',
  expect: 'U-Boot',
});

describe('QEMU arguments', () => {
  it('reads SeaBIOS from the debug console at 0x402, on standard output', () => {
    const a = qemuArgs(seabios, '/r/bios.bin', false).join(' ');
    expect(qemuBinary(seabios)).toBe('qemu-system-x86_64');
    expect(a).toContain('-bios /r/bios.bin');
    expect(a).toContain(
      '-serial none -chardev stdio,id=dbg,signal=off -device isa-debugcon,iobase=0x402,chardev=dbg',
    );
    expect(a).not.toContain('-accel');
  });
  it('reads U-Boot from the serial port of the riscv64 virt machine', () => {
    const a = qemuArgs(uboot, '/r/u-boot.bin', false).join(' ');
    expect(qemuBinary(uboot)).toBe('qemu-system-riscv64');
    expect(a).toContain('-M virt');
    expect(a).toContain('-serial stdio');
  });
  it('never gives the guest a network and uses KVM only when asked', () => {
    for (const spec of [seabios, uboot]) {
      const args = qemuArgs(spec, '/a', true);
      expect(args.join(' ')).toContain('-nic none');
      expect(args.some((x) => /netdev|user,|tap/.test(x))).toBe(false);
      expect(args.join(' ')).toContain('-accel kvm');
    }
  });
  it('opens no socket and no host path but the artifact: no defaults, no monitor, no gdb, QEMU seccomp on', () => {
    for (const spec of [
      seabios,
      uboot,
      { ...seabios, as: 'pflash' as const },
      { ...uboot, as: 'kernel' as const },
    ]) {
      const args = qemuArgs(spec, '/boot/firmware.img', false);
      expect(args.slice(0, 2)).toEqual(['-nodefaults', '-no-user-config']);
      expect(args.join(' ')).toContain('-monitor none');
      expect(args.join(' ')).toContain(
        '-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
      );
      for (const a of args)
        expect(a).not.toMatch(/^-(s|S|gdb|qmp|vnc|D|hda|snapshot)$|tcp:|unix:|telnet|socket/);
      const drive = args[args.indexOf('-drive') + 1];
      if (args.includes('-drive')) expect(drive).toContain('readonly=on');
      // The one path: the artifact's copy.
      expect(args.filter((a) => a.includes('/'))).toEqual([expect.stringContaining('/boot/firmware.img')]);
    }
  });
  it('takes memory and CPU model from the closed list', () => {
    const spec = bootSchema.parse({ ...uboot, memory: 512, cpu: 'rv64' });
    const a = qemuArgs(spec, '/a', false).join(' ');
    expect(a).toContain('-m 512');
    expect(a).toContain('-cpu rv64');
    expect(qemuArgs(uboot, '/a', false).join(' ')).toContain('-m 256');
  });
  it('escapes a comma in the pflash path, so it cannot add drive options', () => {
    const a = qemuArgs({ ...seabios, as: 'pflash' }, '/t/x,file=/etc/shadow', false);
    expect(a).toContain('if=pflash,format=raw,readonly=on,file=/t/x,,file=/etc/shadow');
  });
});

describe('an initrd booted with a kernel', () => {
  const initrd = (arch: 'x86_64' | 'aarch64' | 'riscv64', machine: string, cpu?: string) =>
    bootSchema.parse({
      machine,
      arch,
      ...(cpu ? { cpu } : {}),
      artifact: 'initrd.cpio.gz',
      as: 'initrd',
      kernel: 'vmlinuz',
      expect: 'busybox',
    });

  it('gives QEMU -kernel, -initrd and a command line of its own on the x86 serial port', () => {
    const args = qemuArgs(initrd('x86_64', 'pc'), '/b/firmware.img', false, '/b/kernel.img');
    const at = (flag: string) => args[args.indexOf(flag) + 1];
    expect(at('-kernel')).toBe('/b/kernel.img');
    expect(at('-initrd')).toBe('/b/firmware.img');
    expect(at('-append')).toBe('console=ttyS0 panic=-1 rdinit=/init');
    expect(args).toContain('-no-reboot');
    expect(args.join(' ')).toContain('-serial stdio');
    // The two copies are the only paths.
    expect(args.filter((a) => a.includes('/')).sort()).toEqual(
      ['/b/firmware.img', '/b/kernel.img', 'console=ttyS0 panic=-1 rdinit=/init'].sort(),
    );
  });

  it('derives the console from the machine: ttyS0 on x86 pc/q35 and riscv64 virt, ttyAMA0 on aarch64 virt', () => {
    expect(kernelCommandLine(initrd('x86_64', 'q35'))).toBe('console=ttyS0 panic=-1 rdinit=/init');
    expect(kernelCommandLine(initrd('riscv64', 'virt'))).toBe('console=ttyS0 panic=-1 rdinit=/init');
    const arm = initrd('aarch64', 'virt', 'cortex-a57');
    expect(kernelCommandLine(arm)).toBe('console=ttyAMA0 panic=-1 rdinit=/init');
    const a = qemuArgs(arm, '/b/firmware.img', false, '/b/kernel.img').join(' ');
    expect(a).toContain('-M virt');
    expect(a).toContain('-cpu cortex-a57');
    expect(a).toContain('-append console=ttyAMA0 panic=-1 rdinit=/init');
  });

  it('takes no command line from the board: an append key is refused, and the kernel is a plain artifact path', () => {
    const base = {
      machine: 'pc',
      arch: 'x86_64',
      artifact: 'i.gz',
      as: 'initrd',
      kernel: 'vmlinuz',
      expect: 'x',
    };
    expect(bootSchema.safeParse({ ...base, append: 'init=/bin/sh' }).success).toBe(false);
    expect(bootSchema.safeParse({ ...base, cmdline: 'init=/bin/sh' }).success).toBe(false);
    expect(bootSchema.safeParse({ ...base, kernel: '/boot/vmlinuz' }).success).toBe(false);
    expect(bootSchema.safeParse({ ...base, kernel: '../vmlinuz' }).success).toBe(false);
    expect(bootSchema.safeParse(base).success).toBe(true);
  });

  it('refuses to build an initrd command line without the kernel', () => {
    expect(() => qemuArgs(initrd('x86_64', 'pc'), '/b/firmware.img', false)).toThrow(/needs the kernel/);
  });
});

describe('the boot folder', () => {
  it('holds read-only copies of the initrd and its kernel under fixed names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-bootfolder-'));
    try {
      await writeFile(join(dir, 'initrd; rm -rf'), 'initrd');
      await writeFile(join(dir, 'vmlinuz,file=x'), 'kernel');
      const folder = await bootFolder(join(dir, 'initrd; rm -rf'), {
        kernel: join(dir, 'vmlinuz,file=x'),
        asRoot: false,
      });
      try {
        expect(folder.image).toBe(join(folder.dir, BOOT_IMAGE));
        expect(folder.kernel).toBe(join(folder.dir, BOOT_KERNEL));
        expect(await readFile(folder.kernel as string, 'utf8')).toBe('kernel');
        expect(await readFile(folder.image, 'utf8')).toBe('initrd');
        expect((await stat(folder.kernel as string)).mode & 0o777).toBe(0o440);
      } finally {
        await folder.remove();
      }
      expect(existsSync(folder.dir)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a kernel that is a link', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-bootfolder-'));
    try {
      await writeFile(join(dir, 'initrd'), 'initrd');
      await symlink('/etc/passwd', join(dir, 'vmlinuz'));
      await expect(
        bootFolder(join(dir, 'initrd'), { kernel: join(dir, 'vmlinuz'), asRoot: false }),
      ).rejects.toThrow(/not a regular file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the closed list of boot options', () => {
  it.each([
    ['free-form args', { args: ['-s'] }],
    ['a machine with options', { machine: 'virt,dumpdtb=/tmp/x' }],
    ['a machine that reads as a flag', { machine: '-s' }],
    ['a CPU with options', { cpu: 'max,+vmx' }],
    ['too much memory', { memory: 1_000_000 }],
  ])('refuses %s', (_what, extra) => {
    expect(bootSchema.safeParse({ ...uboot, ...extra }).success).toBe(false);
  });
});

describe('confined QEMU', () => {
  it('as root: an empty network namespace, then uid/gid nobody with no groups, capabilities or new privileges', async () => {
    const c = await confinedCommand('/usr/bin/qemu-system-x86_64', ['-M', 'pc'], { asRoot: true });
    expect(c.command).toMatch(/\/unshare$/);
    expect(c.args).toEqual([
      '--net',
      '--',
      expect.stringMatching(/\/setpriv$/),
      `--reuid=${BOOT_UID}`,
      `--regid=${BOOT_UID}`,
      '--clear-groups',
      '--no-new-privs',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--',
      '/usr/bin/qemu-system-x86_64',
      '-M',
      'pc',
    ]);
  });
  it('as a normal user: QEMU itself, with that user’s rights', async () => {
    const c = await confinedCommand('/usr/bin/qemu-system-x86_64', ['-M', 'pc'], { asRoot: false });
    expect(c).toEqual({ command: '/usr/bin/qemu-system-x86_64', args: ['-M', 'pc'] });
  });
});
