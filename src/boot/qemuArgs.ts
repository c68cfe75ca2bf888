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
 * QEMU opens no path for writing; the only path it reads is the artifact's read-only copy.
 * No option here opens a socket: no gdb server, no monitor, no network, no VNC.
 */
export function qemuArgs(spec: BootSpec, artifact: string, kvm: boolean): string[] {
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
