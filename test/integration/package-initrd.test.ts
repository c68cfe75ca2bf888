/**
 * Issue 27: initrds declared as package lists (the Asterinas RFC's case). The offline sets
 * initrd-python-amd64 and initrd-python-arm64 (roots busybox-static and python3.11-minimal,
 * the arm64 one resolved and fetched with reprorom's arm64 apt indexes) become trees in the
 * initrd image; python-initrd-x86_64 and -aarch64 pack them with their own /init and boot them.
 * Kept to two tests for CI's budget: one workspace where the arm64 list grows by one package
 * (bzip2, which brings its own libbz2) and both boards build twice with --boot (relock of one
 * set, fetch, image build, 4 runs, 4 boots); and the planted lock (nix unpacks 8 debs, the
 * check fails before an image is assembled).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCpio } from '../../src/compare/cpio.js';
import { readElf } from '../../src/initrd/elf.js';
import { checkLoads } from '../../src/initrd/loadCheck.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, probeTools, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

const probes = [
  await probeEngine(),
  await probeNix(),
  await probeTools(
    'QEMU and cpio',
    ['qemu-system-x86_64', 'qemu-system-aarch64', 'cpio'],
    'apt-get install -y qemu-system-x86 qemu-system-arm cpio',
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

const BOARDS = {
  'python-initrd-x86_64': {
    machine: 62,
    uname: 'x86_64',
    loader: 'usr/lib64/ld-linux-x86-64.so.2',
    triplet: 'x86_64-linux-gnu',
  },
  'python-initrd-aarch64': {
    machine: 183,
    uname: 'aarch64',
    loader: 'usr/lib/ld-linux-aarch64.so.1',
    triplet: 'aarch64-linux-gnu',
  },
} as const;

const LOCK = join('pins', 'offline', 'debs.lock.json');

/** Unpack an initrd with the host's cpio (not reprorom's code) into a fresh folder. */
async function unpackInitrd(gz: Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rr-initrd-tree-'));
  await execa('cpio', ['-id', '--quiet', '--no-absolute-filenames'], { cwd: dir, input: gunzipSync(gz) });
  return dir;
}

describe.skipIf(probes.some(skipUnlessReal))('package-list initrds (real engine, nix, QEMU)', () => {
  let ws = '';
  beforeAll(async () => {
    if (inCi) for (const p of probes) requireReal(p);
    ws = await copyWorkspace('rr-pkg-initrd-');
  });

  it('builds both Python initrds twice under variations, reproducibly, normalised, loadable, and each boots its banner; a package added to the list by one line brings its library and runs', async () => {
    // The one-line change: bzip2 in the arm64 set's roots (its libbz2-1.0 comes with it).
    const lockText = await readFile(join(ws, LOCK), 'utf8');
    const lines = lockText.split('\n');
    const setAt = lines.findIndex((l) => l.includes('"initrd-python-arm64": {'));
    const rootsAt = lines.findIndex((l, i) => i > setAt && l.includes('"roots": ['));
    lines.splice(rootsAt + 1, 0, '        "bzip2",');
    await writeFile(join(ws, LOCK), lines.join('\n'));
    const relock = await execa(
      'npx',
      ['vite-node', join(repoRoot, 'scripts/lock-offline-debs.ts'), ws, '--set', 'initrd-python-arm64'],
      { cwd: repoRoot, reject: false },
    );
    expect(relock.exitCode, relock.stderr).toBe(0);
    const after = JSON.parse(await readFile(join(ws, LOCK), 'utf8'));
    expect(after.sets['initrd-python-arm64'].debs).toEqual(
      expect.arrayContaining(['bzip2:arm64', 'libbz2-1.0:arm64']),
    );
    // Read from the deb at lock time: what the load check names when a library is missing.
    expect(after.debs['libbz2-1.0:arm64'].sonames).toEqual(['libbz2.so.1.0']);
    expect(after.debs['bzip2:arm64'].sonames).toEqual([]);
    // Nothing else moved: the amd64 set is as shipped.
    const shipped = JSON.parse(lockText);
    expect(after.sets['initrd-python-amd64']).toEqual(shipped.sets['initrd-python-amd64']);
    for (const args of [
      ['pin', 'fetch', 'offline'],
      ['pin', 'lock', 'offline'],
    ]) {
      const r = await runCli([...args, '-w', ws], { timeoutMs: 600_000 });
      expect(r.exitCode, r.stderr).toBe(0);
    }
    // The aarch64 board uses the new program: its /init runs Debian's bzip2 by path after the
    // banner (by path: busybox's shell would run its own bzip2 applet for a bare name).
    const init = await readFile(join(ws, 'initrds', 'python', 'init'), 'utf8');
    await writeFile(
      join(ws, 'initrds', 'python', 'init-bzip2'),
      init.replace('poweroff -f', '/usr/bin/bzip2 --help\npoweroff -f'),
    );
    const board = join(ws, 'boards', 'python-initrd-aarch64.yaml');
    await writeFile(
      board,
      (await readFile(board, 'utf8'))
        .replace('python/init\n', 'python/init-bzip2\n')
        .replace(/expect: .*/, "expect: 'bzip2, a block-sorting file compressor\\.  Version 1\\.0\\.8'"),
    );
    expect(await readFile(board, 'utf8')).toContain('sh pack.sh initrd-python-arm64 python/init-bzip2\n');

    const names = Object.keys(BOARDS);
    const r = await runCli(['build', ...names, '--runs', '2', '--boot', '--json', '-w', ws], {
      timeoutMs: 1_500_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as BuildJson;
    expect(json.comparison?.ok).toBe(true);
    const verdicts = Object.fromEntries(json.comparison!.artifacts.map((a) => [a.name, a.verdict]));
    for (const n of names)
      for (const a of ['initrd.cpio.gz', 'initrd.manifest', 'vmlinuz'])
        expect(verdicts[`${n}/${a}`]).toBe('reproducible');

    for (const board of json.boards) {
      const want = BOARDS[board.board as keyof typeof BOARDS];
      expect(board.runs).toHaveLength(2);
      for (const run of board.runs) {
        expect(run.ok).toBe(true);
        expect(run.boot?.ok).toBe(true);
        const banner = `reprorom python initrd: Python 3.11.2 on ${want.uname}`;
        if (board.board === 'python-initrd-x86_64') expect(run.boot?.matched).toBe(banner);
        else {
          // Python's banner first, then Debian's bzip2 (linking libbz2.so.1.0) ran.
          expect(run.boot?.matched).toMatch(/^bzip2, a block-sorting file compressor\. {2}Version 1\.0\.8/);
          expect(await readFile(join(run.dir!, 'boot.log'), 'utf8')).toContain(banner);
        }
        const manifest = JSON.parse(await readFile(join(run.dir!, 'manifest.json'), 'utf8'));
        const gz = await readFile(join(run.dir!, 'artifacts', 'initrd.cpio.gz'));
        // gzip -n: no file name flag and a zero time in the header.
        expect(gz[3]! & 0x08).toBe(0);
        expect(gz.readUInt32LE(4)).toBe(0);
        // Read back: sorted (C locale), 0:0, every mtime SOURCE_DATE_EPOCH.
        const members = readCpio(gz);
        const memberNames = members.map((m) => m.name);
        expect(memberNames).toEqual([...memberNames].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
        expect(memberNames).toEqual(
          expect.arrayContaining([
            'init',
            'usr/bin/python3.11',
            'usr/bin/busybox',
            'usr/bin/sh',
            want.loader,
          ]),
        );
        if (board.board === 'python-initrd-aarch64')
          expect(memberNames).toEqual(
            expect.arrayContaining(['usr/bin/bzip2', 'usr/lib/aarch64-linux-gnu/libbz2.so.1.0']),
          );
        for (const m of members)
          expect({ name: m.name, uid: m.uid, gid: m.gid, mtime: m.mtime }).toEqual({
            name: m.name,
            uid: 0,
            gid: 0,
            mtime: manifest.sourceDateEpoch,
          });
        // Trimmed by rule, and the left-out files are listed in the initrd's manifest.
        expect(
          memberNames.filter((n) => n.startsWith('usr/share/doc/') || n.startsWith('usr/share/man/')),
        ).toEqual([]);
        const listed = await readFile(join(run.dir!, 'artifacts', 'initrd.manifest'), 'utf8');
        expect(listed).toMatch(/^package python3\.11-minimal 3\.11\.2-\S+ (amd64|arm64) [0-9a-f]{64}$/m);
        expect(listed).toMatch(/^trimmed usr\/share\/doc\/libexpat1\/copyright$/m);
        // glibc's gconv modules (iconv's converters) are left out by rule too, and listed.
        expect(memberNames.filter((n) => /(^|\/)gconv(\/|$)/.test(n))).toEqual([]);
        expect(listed).toContain(`\ntrimmed usr/lib/${want.triplet}/gconv/ISO8859-1.so\n`);
        // The packed initrd, unpacked by the host's cpio: Python is a dynamic program of the
        // board's machine and every ELF file in it finds its loader and libraries.
        const tree = await unpackInitrd(gz);
        try {
          const python = readElf(await readFile(join(tree, 'usr/bin/python3.11')));
          expect(python?.machine).toBe(want.machine);
          expect(python?.needed).toEqual(expect.arrayContaining(['libexpat.so.1', 'libz.so.1']));
          expect(await checkLoads(tree)).toEqual([]);
        } finally {
          await rm(tree, { recursive: true, force: true });
        }
      }
    }
  }, 1_600_000);

  it('refuses with exit 2 an initrd whose Python lacks a library (libexpat1 taken out of the locked closure)', async () => {
    const planted = await copyWorkspace('rr-pkg-initrd-planted-');
    try {
      const lock = JSON.parse(await readFile(join(planted, LOCK), 'utf8'));
      const set = lock.sets['initrd-python-amd64'];
      set.debs = set.debs.filter((d: string) => d !== 'libexpat1');
      await writeFile(join(planted, LOCK), `${JSON.stringify(lock, null, 2)}\n`);
      const locked = await runCli(['pin', 'lock', 'offline', '-w', planted]);
      expect(locked.exitCode, locked.stderr).toBe(0);
      const r = await runCli(['build', 'python-initrd-x86_64', '-w', planted], { timeoutMs: 600_000 });
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toContain(
        'set initrd-python-amd64: usr/bin/python3.11 needs libexpat.so.1, which no folder the loader searches in the tree has; package libexpat1 provides it',
      );
      expect(r.stderr).toMatch(
        /→ add libexpat1 to the roots of initrd-python-amd64 in .*--set initrd-python-amd64/,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      await rm(planted, { recursive: true, force: true });
    }
  }, 700_000);
});
