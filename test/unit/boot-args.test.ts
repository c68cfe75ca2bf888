import { describe, expect, it } from 'vitest';
import { BOOT_UID, confinedCommand } from '../../src/boot/confine.js';
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
