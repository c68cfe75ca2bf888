/**
 * A board's `boot:` check: what it may ask of QEMU.
 */
import * as z from 'zod/mini';
import { matching, nonEmptyString, wholeNumber } from '../util/zod.js';
import { artifactPath } from './schemaParts.js';

/** A QEMU machine or CPU model name: no options (`,`, `=`), nothing that reads as a flag. */
const qemuName = (what: string) =>
  matching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, `expected ${what} (a plain name, no options)`);

/**
 * What a board may ask of QEMU: a closed list of values, never free-form arguments. A board
 * file comes with a pull request, and QEMU runs on the host: every other option (files,
 * sockets, a gdb server, a monitor) is reprorom's to set (src/boot/qemuArgs.ts).
 */
export const bootSchema = z.strictObject({
  machine: qemuName('a QEMU machine name such as pc, q35 or virt').check(z.describe('QEMU -M')),
  arch: z
    .enum(['x86_64', 'i386', 'riscv64', 'aarch64'])
    .check(z.describe('QEMU system emulator (qemu-system-ARCH)')),
  cpu: z.optional(
    qemuName('a QEMU CPU model such as qemu64, cortex-a57 or rv64').check(z.describe('QEMU -cpu')),
  ),
  memory: z._default(wholeNumber(16, 16384), 256).check(z.describe('Guest memory in MiB')),
  artifact: artifactPath.check(z.describe("The artifact booted (one of the board's artifacts)")),
  as: z
    ._default(z.enum(['bios', 'kernel', 'pflash', 'initrd']), 'bios')
    .check(
      z.describe(
        'How QEMU loads the artifact: -bios, -kernel, a pflash drive, or -initrd (with boot.kernel as -kernel)',
      ),
    ),
  kernel: z.optional(
    artifactPath.check(
      z.describe(
        "With as: initrd, the Linux kernel booted with it (another of the board's artifacts); its command line is reprorom's: the machine's serial console, panic=-1, rdinit=/init",
      ),
    ),
  ),
  channel: z
    ._default(z.enum(['serial', 'debugcon']), 'serial')
    .check(z.describe('Where the expected text is read: the serial port or the debug console (port 0x402)')),
  expect: nonEmptyString().check(
    z.describe(
      'Regular expression (RE2 syntax: no backreferences or lookaround) that must appear on the channel; matched in linear time',
    ),
  ),
  timeout: z
    ._default(wholeNumber(1, 3600), 60)
    .check(z.describe('Seconds to wait for the expected text before the boot check fails')),
});
