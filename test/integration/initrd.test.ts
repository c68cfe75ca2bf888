/**
 * Issue 18, step 3: busybox initrds for two architectures, as Heads builds its initrd. busybox
 * 1.35.0 static from the Debian source, native (x86_64) and cross-compiled (aarch64, Debian's
 * gcc-12-aarch64-linux-gnu), packed into a normalised newc cpio and `gzip -n`, booted by the
 * kernel of a pinned Debian linux-image package (a `type: debian` input, arm64 on this amd64
 * host). One `--runs 2 --boot` build of both boards: four busybox builds and four QEMU boots.
 * Cost: about 360 s of build CPU (80 s a run for x86_64, 90-110 s for aarch64: allnoconfig plus
 * six applets) and four boots of a few seconds each (TCG); measured on this 2-core machine:
 * 6 min 19 s under a load average of about 2.5, 13 min 52 s under 6-7.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, probeTools, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

const probes = [
  await probeEngine(),
  await probeNix(),
  await probeTools(
    'QEMU',
    ['qemu-system-x86_64', 'qemu-system-aarch64'],
    'apt-get install -y qemu-system-x86 qemu-system-arm',
  ),
];

interface BuildJson {
  boards: Array<{
    board: string;
    runs: Array<{
      index: number;
      ok: boolean;
      dir: string | null;
      boot?: { ok: boolean; matched: string | null };
    }>;
  }>;
  comparison: { ok: boolean; artifacts: Array<{ name: string; verdict: string }> } | null;
}

interface CpioEntry {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  ino: number;
  devmajor: number;
  devminor: number;
  data: Buffer;
}

/** The entries of a newc ("070701") archive, in archive order, up to the trailer. */
function readNewc(archive: Buffer): CpioEntry[] {
  const entries: CpioEntry[] = [];
  let at = 0;
  const align = (n: number) => (n + 3) & ~3;
  for (;;) {
    const header = archive.subarray(at, at + 110).toString('latin1');
    if (!header.startsWith('070701')) throw new Error(`no newc header at offset ${at}`);
    const field = (i: number) => Number.parseInt(header.slice(6 + i * 8, 14 + i * 8), 16);
    const nameSize = field(11);
    const dataSize = field(6);
    const name = archive.subarray(at + 110, at + 110 + nameSize - 1).toString('latin1');
    const dataAt = align(at + 110 + nameSize);
    if (name === 'TRAILER!!!') return entries;
    entries.push({
      name,
      ino: field(0),
      mode: field(1),
      uid: field(2),
      gid: field(3),
      mtime: field(5),
      devmajor: field(7),
      devminor: field(8),
      data: archive.subarray(dataAt, dataAt + dataSize),
    });
    at = align(dataAt + dataSize);
  }
}

/** An ELF file's machine (e_machine) and whether it asks for a dynamic loader (a PT_INTERP segment). */
function elfFacts(elf: Buffer): { machine: number; interpreter: boolean } {
  expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  expect(elf[4]).toBe(2); // 64-bit, little-endian below
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  let interpreter = false;
  for (let i = 0; i < phnum; i++) if (elf.readUInt32LE(phoff + i * phentsize) === 3) interpreter = true;
  return { machine: elf.readUInt16LE(0x12), interpreter };
}

const BOARDS = {
  'busybox-initrd-x86_64': { machine: 0x3e, kernel: '6.1.0-57-amd64', uname: 'x86_64' },
  'busybox-initrd-aarch64': { machine: 0xb7, kernel: '6.1.0-57-arm64', uname: 'aarch64' },
} as const;

describe.skipIf(probes.some(skipUnlessReal))(
  'busybox initrds for x86_64 and aarch64 (real engine, real QEMU)',
  () => {
    let ws = '';
    beforeAll(async () => {
      if (inCi) for (const p of probes) requireReal(p);
      ws = await copyWorkspace('rr-initrd-');
    });

    it('builds both initrds twice under variations, reproducibly, normalised, and each boots its /init', async () => {
      const names = Object.keys(BOARDS);
      const r = await runCli(['build', ...names, '--runs', '2', '--boot', '--json', '-w', ws], {
        timeoutMs: 2_700_000,
      });
      expect(r.exitCode, r.stderr).toBe(0);
      const json = JSON.parse(r.stdout) as BuildJson;
      expect(json.boards.map((b) => b.board).sort()).toEqual([...names].sort());
      expect(json.comparison?.ok).toBe(true);
      const verdicts = Object.fromEntries(json.comparison!.artifacts.map((a) => [a.name, a.verdict]));
      expect(verdicts).toEqual(
        Object.fromEntries(
          names.flatMap((n) => [
            [`${n}/initrd.cpio.gz`, 'reproducible'],
            [`${n}/vmlinuz`, 'reproducible'],
          ]),
        ),
      );

      for (const board of json.boards) {
        const want = BOARDS[board.board as keyof typeof BOARDS];
        expect(board.runs).toHaveLength(2);
        for (const run of board.runs) {
          expect(run.ok).toBe(true);
          // /init ran under Debian's kernel of the right architecture: busybox's uname says so.
          expect(run.boot?.ok).toBe(true);
          expect(run.boot?.matched).toBe(
            `reprorom busybox initrd: BusyBox 1.35.0 on Linux ${want.kernel} ${want.uname}`,
          );
          const manifest = JSON.parse(await readFile(join(run.dir!, 'manifest.json'), 'utf8'));
          // The kernel came in as the pinned Debian package, recorded with its hash.
          expect(JSON.stringify(manifest.inputs)).toContain('kernel.deb');
          expect(JSON.stringify(manifest.inputs)).toContain(`linux-image-${want.kernel}`);

          const gz = await readFile(join(run.dir!, 'artifacts', 'initrd.cpio.gz'));
          // gzip -n: no file name flag (FNAME, bit 3) and a zero time in the header.
          expect(gz.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
          expect(gz[3]! & 0x08).toBe(0);
          expect(gz.readUInt32LE(4)).toBe(0);
          const entries = readNewc(gunzipSync(gz));
          const entryNames = entries.map((e) => e.name);
          // Sorted by name (C locale), owned by 0:0, every mtime SOURCE_DATE_EPOCH, no host inode or device.
          expect(entryNames).toEqual([...entryNames].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
          expect(entryNames).toEqual(expect.arrayContaining(['.', 'init', 'bin/busybox', 'bin/sh', 'dev']));
          for (const e of entries) {
            expect({
              name: e.name,
              uid: e.uid,
              gid: e.gid,
              mtime: e.mtime,
              dev: [e.devmajor, e.devminor],
            }).toEqual({
              name: e.name,
              uid: 0,
              gid: 0,
              mtime: manifest.sourceDateEpoch,
              dev: [0, 0],
            });
          }
          // cpio --reproducible: inodes numbered in archive order (from 0), not the build tree's.
          expect(entries.map((e) => e.ino)).toEqual(entries.map((_, i) => i));
          const busybox = entries.find((e) => e.name === 'bin/busybox')!;
          // Static (no dynamic loader) and built for the board's architecture.
          expect(elfFacts(busybox.data)).toEqual({ machine: want.machine, interpreter: false });
          expect(entries.find((e) => e.name === 'init')!.mode & 0o777).toBe(0o755);
        }
      }
    }, 2_800_000);
  },
);
