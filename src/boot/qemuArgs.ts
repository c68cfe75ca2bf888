/**
 * The QEMU command line for a boot check: no network ever, no display, no
 * reboot loop, the chosen channel on standard output, KVM only when it can help.
 */
import { accessSync, constants } from 'node:fs';
import type * as z from 'zod/mini';
import type { bootSchema } from '../workspace/schema.js';

export type BootSpec = z.output<typeof bootSchema>;

const BINARIES: Record<BootSpec['arch'], string> = {
  x86_64: 'qemu-system-x86_64',
  i386: 'qemu-system-i386',
  riscv64: 'qemu-system-riscv64',
  aarch64: 'qemu-system-aarch64',
};

/** The Debian package holding each emulator, for the "not installed" hint. */
const PACKAGES: Record<BootSpec['arch'], string> = {
  x86_64: 'qemu-system-x86',
  i386: 'qemu-system-x86',
  riscv64: 'qemu-system-misc',
  aarch64: 'qemu-system-arm',
};

/** Guest architectures KVM can run on each Node `process.arch`. */
const KVM_GUESTS: Partial<Record<NodeJS.Architecture, ReadonlyArray<BootSpec['arch']>>> = {
  x64: ['x86_64', 'i386'],
  arm64: ['aarch64'],
  riscv64: ['riscv64'],
};

export function qemuBinary(spec: BootSpec): string {
  return BINARIES[spec.arch];
}

export function qemuPackage(spec: BootSpec): string {
  return PACKAGES[spec.arch];
}

/**
 * The serial console Linux writes to on each architecture's machines: the 16550 UART of the
 * x86 PCs (pc, q35) and of riscv64 virt, the PL011 of aarch64 virt.
 */
const SERIAL_CONSOLES: Record<BootSpec['arch'], string> = {
  x86_64: 'ttyS0',
  i386: 'ttyS0',
  riscv64: 'ttyS0',
  aarch64: 'ttyAMA0',
};

/**
 * The kernel command line of an initrd boot: never text from the board. The console is the
 * machine's serial port; `panic=-1` reboots at once on a panic, which `-no-reboot` turns into
 * QEMU exiting (the check ends instead of hanging); `rdinit=/init` runs the initrd's /init.
 */
export function kernelCommandLine(spec: BootSpec): string {
  return `console=${SERIAL_CONSOLES[spec.arch]} panic=-1 rdinit=/init`;
}

/** KVM only helps a guest of the host's own architecture, and only if we may open /dev/kvm. */
export function kvmUsable(
  arch: BootSpec['arch'],
  hostArch: NodeJS.Architecture = process.arch,
  devKvm: () => boolean = defaultDevKvm,
): boolean {
  return (KVM_GUESTS[hostArch] ?? []).includes(arch) && devKvm();
}

function defaultDevKvm(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Everything QEMU gets comes from here; a board only picks values from a closed list
 * (schema.ts). `-nodefaults`: no default NIC, monitor, serial, parallel port or display.
 * The watched channel is QEMU's standard output (a file descriptor the caller opened), so
 * QEMU opens no path for writing; the only paths it reads are the artifact's read-only copy
 * and, with `as: initrd`, the kernel's (`kernel`).
 * No option here opens a socket: no gdb server, no monitor, no network, no VNC.
 */
export function qemuArgs(spec: BootSpec, artifact: string, kvm: boolean, kernel?: string): string[] {
  const args = [
    '-nodefaults',
    '-no-user-config',
    '-M',
    spec.machine,
    '-m',
    String(spec.memory),
    '-display',
    'none',
    '-no-reboot',
    // No network device at all: not even QEMU's default user-mode NIC.
    '-nic',
    'none',
    '-monitor',
    'none',
    '-parallel',
    'none',
    // QEMU's own seccomp filter: no new privileges, no spawning programs, no obsolete system calls.
    '-sandbox',
    'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
  ];
  if (spec.cpu !== undefined) args.push('-cpu', spec.cpu);
  // A /dev/kvm that exists but fails (nested VM, busy) must not fail the check: QEMU falls back to TCG.
  if (kvm) args.push('-accel', 'kvm', '-accel', 'tcg');
  if (spec.as === 'bios') args.push('-bios', artifact);
  else if (spec.as === 'kernel') args.push('-kernel', artifact);
  else if (spec.as === 'initrd') {
    if (kernel === undefined) throw new Error('qemuArgs: as: initrd needs the kernel to boot it with');
    args.push('-kernel', kernel, '-initrd', artifact, '-append', kernelCommandLine(spec));
  }
  // QEMU reads "," as an option separator; doubled, it is part of the name.
  else args.push('-drive', `if=pflash,format=raw,readonly=on,file=${artifact.replaceAll(',', ',,')}`);
  if (spec.channel === 'debugcon') {
    args.push(
      '-serial',
      'none',
      '-chardev',
      'stdio,id=dbg,signal=off',
      '-device',
      'isa-debugcon,iobase=0x402,chardev=dbg',
    );
  } else {
    args.push('-serial', 'stdio');
  }
  return args;
}
