import { describe, expect, it } from 'vitest';
import { qemuArgs, qemuBinary } from '../../src/boot/qemuArgs.js';
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
  it('reads SeaBIOS from the debug console at 0x402', () => {
    const a = qemuArgs(seabios, '/r/bios.bin', '/r/out', false).join(' ');
    expect(qemuBinary(seabios)).toBe('qemu-system-x86_64');
    expect(a).toContain('-bios /r/bios.bin');
    expect(a).toContain('-chardev file,id=dbg,path=/r/out -device isa-debugcon,iobase=0x402,chardev=dbg');
    expect(a).not.toContain('-accel');
  });
  it('reads U-Boot from the serial port of the riscv64 virt machine', () => {
    const a = qemuArgs(uboot, '/r/u-boot.bin', '/r/out', false).join(' ');
    expect(qemuBinary(uboot)).toBe('qemu-system-riscv64');
    expect(a).toContain('-M virt');
    expect(a).toContain('-serial file:/r/out');
  });
  it('never gives the guest a network and uses KVM only when asked', () => {
    for (const spec of [seabios, uboot]) {
      const args = qemuArgs(spec, '/a', '/o', true);
      expect(args.join(' ')).toContain('-nic none');
      expect(args.some((x) => /netdev|user,|tap/.test(x))).toBe(false);
      expect(args.join(' ')).toContain('-accel kvm');
    }
  });
});
