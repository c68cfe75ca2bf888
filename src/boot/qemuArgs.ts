/**
 * The QEMU command line for a boot check: no network ever, no display, no
 * reboot loop, the chosen channel captured to a file, KVM only when present.
 */
import type { z } from 'zod';
import type { bootSchema } from '../workspace/schema.js';

export type BootSpec = z.output<typeof bootSchema>;

const BINARIES: Record<BootSpec['arch'], string> = {
  x86_64: 'qemu-system-x86_64',
  i386: 'qemu-system-i386',
  riscv64: 'qemu-system-riscv64',
  aarch64: 'qemu-system-aarch64',
};

export function qemuBinary(spec: BootSpec): string {
  return BINARIES[spec.arch];
}

export function qemuArgs(spec: BootSpec, artifact: string, outputFile: string, kvm: boolean): string[] {
  const args = [
    '-M',
    spec.machine,
    '-nographic',
    '-display',
    'none',
    '-no-reboot',
    '-nic',
    'none',
    '-m',
    '256',
  ];
  if (kvm) args.push('-accel', 'kvm');
  if (spec.as === 'bios') args.push('-bios', artifact);
  else if (spec.as === 'kernel') args.push('-kernel', artifact);
  else args.push('-drive', `if=pflash,format=raw,readonly=on,file=${artifact}`);
  if (spec.channel === 'debugcon') {
    args.push(
      '-serial',
      'none',
      '-monitor',
      'none',
      '-chardev',
      `file,id=dbg,path=${outputFile}`,
      '-device',
      'isa-debugcon,iobase=0x402,chardev=dbg',
    );
  } else {
    args.push('-serial', `file:${outputFile}`, '-monitor', 'none');
  }
  return [...args, ...spec.args];
}
