/**
 * Board files arrive in pull requests: a workspace file, a local source and a boot section
 * are hostile input. Each case here was a way for a board file to reach the host (read a
 * host file, hand one to a build or to QEMU, open a socket) or to hang or crash reprorom;
 * each must now be one located line from `reprorom check` (exit 2), or refused at build/boot.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { bootRun } from '../../src/boot/boot.js';
import { BOOT_UID } from '../../src/boot/confine.js';
import { watchProcess } from '../../src/boot/watch.js';
import { prepareSource } from '../../src/sources/prepare.js';
import { compileLinear } from '../../src/util/linearRegex.js';
import { boardSchema } from '../../src/workspace/schema.js';
import { runCli } from '../helpers/cli.js';
import { inCi } from '../helpers/real.js';
import { writeFakeRun } from '../helpers/runFolder.js';
import { expectNoStack } from './support.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

const NAR = 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const BASE = {
  'pins/p.yaml': `flake: path:./flake\nnarHash: ${NAR}\npackageSet: packages\n`,
  'flake/flake.nix': '{ outputs = _: { }; }\n',
  'images/i.yaml': 'pin: p\npackages: [hello]\n',
  'boards/b.yaml': 'image: i\ncommands: [make]\nartifacts: [out.bin]\n',
};

/** A small valid workspace with `files` laid over it. */
async function workspace(files: Record<string, string> = {}): Promise<string> {
  const dir = await tempDir('rr-boardfiles-');
  for (const [rel, content] of Object.entries({ ...BASE, ...files })) {
    await mkdir(join(dir, dirname(rel)), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
  return dir;
}

/** `reprorom check` in `dir`: the problem lines (without the count), exit code and output. */
async function check(dir: string) {
  const r = await runCli(['check', '-w', '.'], { cwd: dir, timeoutMs: 30_000 });
  expectNoStack(r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l !== '' && !/^\d+ problem\(s\) found$/.test(l));
  return { ...r, lines };
}

/** Lines that could only come from reading the secret file. */
const SECRET = 'root:$6$saltsalt$hashhashhash:19000:0:99999:7:::\nsecret_key_name: do-not-print-me\n';

describe('board files and sources are untrusted input', () => {
  describe('workspace files must be regular files inside the workspace', () => {
    it('a board file linked to a file outside the workspace (like /etc/shadow) is refused at 1:1, its content never echoed', async () => {
      const outside = await tempDir('rr-outside-');
      await writeFile(join(outside, 'shadow'), SECRET);
      const ws = await workspace();
      await symlink(join(outside, 'shadow'), join(ws, 'boards/shadow.yaml'));
      await symlink('/etc/shadow', join(ws, 'boards/etc-shadow.yaml'));
      const r = await check(ws);
      expect(r.exitCode).toBe(2);
      expect(r.lines).toEqual([
        'boards/etc-shadow.yaml:1:1: this is a symbolic link to a file outside the workspace, expected a regular YAML file inside the workspace',
        'boards/shadow.yaml:1:1: this is a symbolic link to a file outside the workspace, expected a regular YAML file inside the workspace',
      ]);
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/secret_key_name|do-not-print-me|saltsalt|root:/);
    });

    it('a folder, a FIFO and a link to /dev/zero named *.yaml are located errors (exit 2), and the FIFO is never opened', async () => {
      const ws = await workspace();
      await mkdir(join(ws, 'boards/folder.yaml'));
      execFileSync('mkfifo', [join(ws, 'boards/fifo.yaml')]);
      await symlink('/dev/zero', join(ws, 'boards/zero.yaml'));
      await symlink('fifo.yaml', join(ws, 'boards/to-fifo.yaml'));
      // Opening the FIFO for reading would block until the test's timeout.
      const r = await check(ws);
      expect(r.exitCode).toBe(2);
      expect(r.lines).toEqual([
        'boards/fifo.yaml:1:1: this is a named pipe, expected a regular YAML file inside the workspace',
        'boards/folder.yaml:1:1: this is a folder, expected a regular YAML file inside the workspace',
        'boards/to-fifo.yaml:1:1: this is a symbolic link to a named pipe, expected a regular YAML file inside the workspace',
        'boards/zero.yaml:1:1: this is a symbolic link to a file outside the workspace, expected a regular YAML file inside the workspace',
      ]);
      expect(r.stdout).not.toMatch(/^ok:/);
    });

    it('a kind folder (boards/) linked outside the workspace is refused, nothing in it is read', async () => {
      const outside = await tempDir('rr-outside-');
      await writeFile(join(outside, 'x.yaml'), SECRET);
      const ws = await workspace();
      await rm(join(ws, 'boards'), { recursive: true });
      await symlink(outside, join(ws, 'boards'));
      const r = await check(ws);
      expect(r.exitCode).toBe(2);
      expect(r.lines).toEqual([
        'boards:1:1: cannot list boards/ (a link to a folder outside the workspace), expected a folder of .yaml files',
      ]);
      expect(r.stderr).not.toMatch(/secret_key_name|do-not-print-me/);
    });

    it('a link to a regular file inside the workspace is still read', async () => {
      const ws = await workspace({ 'shared/board.yaml': BASE['boards/b.yaml'] });
      await symlink('../shared/board.yaml', join(ws, 'boards/linked.yaml'));
      const r = await check(ws);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ok: 4 files \(1 pins, 1 images, 2 boards\)/);
    });
  });

  describe('a local source must stay inside the workspace', () => {
    it('a local source folder linked outside the workspace is refused by check at source.path', async () => {
      const outside = await tempDir('rr-outside-');
      await writeFile(join(outside, 'shadow'), SECRET);
      const ws = await workspace({
        'boards/b.yaml':
          'image: i\nsource: { type: local, path: src/host }\ncommands: [make]\nartifacts: [shadow]\n',
      });
      await mkdir(join(ws, 'src'));
      await symlink(outside, join(ws, 'src/host'));
      const r = await check(ws);
      expect(r.exitCode).toBe(2);
      expect(r.lines).toEqual([
        'boards/b.yaml:2:30: source folder "src/host" leads outside the workspace through a symbolic link, expected a folder inside the workspace',
      ]);
    });

    it('a local source under a linked parent folder is refused by check too', async () => {
      const outside = await tempDir('rr-outside-');
      await mkdir(join(outside, 'tree'));
      const ws = await workspace({
        'boards/b.yaml':
          'image: i\nsource:\n  type: local\n  path: vendor/tree\ncommands: [make]\nartifacts: [x]\n',
      });
      await symlink(outside, join(ws, 'vendor'));
      const r = await check(ws);
      expect(r.exitCode).toBe(2);
      expect(r.lines).toEqual([
        'boards/b.yaml:4:9: source folder "vendor/tree" leads outside the workspace through a symbolic link, expected a folder inside the workspace',
      ]);
    });

    it('the build refuses it as well (prepareSource), before a host file is copied', async () => {
      const outside = await tempDir('rr-outside-');
      await writeFile(join(outside, 'shadow'), SECRET);
      const ws = await workspace();
      await mkdir(join(ws, 'src'));
      await symlink(outside, join(ws, 'src/host'));
      const into = join(await tempDir('rr-copy-'), 'src');
      await expect(
        prepareSource(ws, { type: 'local', path: 'src/host', exclude: [] }, { into }),
      ).rejects.toThrow(/source folder src\/host leads outside the workspace/);
      expect(await readdir(into).catch(() => [])).toEqual([]);
    });

    it.each([
      [
        'an absolute link',
        (outside: string) => join(outside, 'shadow'),
        /points outside the source \(absolute target\)/,
      ],
      [
        'a relative link climbing out',
        () => '../../../../../../../../../../../../tmp',
        /points outside the source/,
      ],
      ['a link to a linked folder that leads out', () => 'hostdir/shadow', /points outside the source/],
    ])('a link inside a local source tree (%s) pulls no host file in', async (_what, target, message) => {
      const outside = await tempDir('rr-outside-');
      await writeFile(join(outside, 'shadow'), SECRET);
      const ws = await workspace();
      await mkdir(join(ws, 'src/tree'), { recursive: true });
      await writeFile(join(ws, 'src/tree/README'), 'x\n');
      await symlink(outside, join(ws, 'src/tree/hostdir')).catch(() => {});
      await symlink(target(outside), join(ws, 'src/tree/link'));
      const into = join(await tempDir('rr-copy-'), 'src');
      await expect(
        prepareSource(ws, { type: 'local', path: 'src/tree', exclude: [] }, { into }),
      ).rejects.toThrow(message);
      const copied = (await readdir(into, { recursive: true }).catch(() => [])).map(String);
      expect(copied.filter((f) => f.endsWith('shadow'))).toEqual([]);
    });
  });

  describe('check refuses what used to fail late, or never', () => {
    const board = (extra: string) => `image: i\ncommands: [make]\nartifacts: [out.bin]\n${extra}`;
    it.each([
      [
        'workdir: ../../..',
        { 'boards/b.yaml': board('workdir: ../../..\n') },
        'boards/b.yaml:4:10: workdir: expected a folder inside the source, without ".." or a leading "/"',
      ],
      [
        'sourceDateEpoch: commit on a local source',
        { 'boards/b.yaml': board('sourceDateEpoch: commit\n') },
        'boards/b.yaml:4:18: sourceDateEpoch: a local source has no commit time, expected a whole number of seconds (or "commit" with a git or debian-source source)',
      ],
      [
        'an empty Debian sha256: {}',
        {
          'boards/b.yaml': board(
            'source:\n  type: debian-source\n  patches: none\n  package: seabios\n  version: 1.16.2-1\n  sha256: {}\n',
          ),
        },
        'boards/b.yaml:9:11: source.sha256: expected the sha256 of each file of the source package, with exactly one .dsc (and its .orig.tar.*, .debian.tar.*)',
      ],
      [
        'fhs.links: [/proc]',
        { 'images/i.yaml': 'pin: p\npackages: [hello]\nfhs: { package: hello, links: [/bin, /proc] }\n' },
        'images/i.yaml:3:38: fhs.links.1: expected a toolchain folder such as /bin, /usr, /lib or /lib64, not one of /proc, /sys, /dev, /nix, /build, /tmp, /var/tmp, /root, /etc (or a folder holding one)',
      ],
    ])('%s is one located line (exit 2)', async (_what, files, line) => {
      const r = await check(await workspace(files));
      expect(r.exitCode).toBe(2);
      expect(r.lines).toEqual([line]);
    });
  });

  describe('boot: a closed list of options, a linear-time pattern, a confined QEMU', () => {
    const bootBoard = (boot: string) =>
      `image: i\ncommands: [make]\nartifacts: [out.bin]\nboot:\n  machine: pc\n  arch: x86_64\n  artifact: out.bin\n  expect: SeaBIOS\n${boot}`;

    it('boot.args (-D FILE, -s, -hda FILE) is refused by check with its position: a board picks values, never QEMU options', async () => {
      const r = await check(
        await workspace({ 'boards/b.yaml': bootBoard('  args: [-D, /tmp/x, -s, -hda, /etc/shadow]\n') }),
      );
      expect(r.exitCode).toBe(2);
      expect(r.lines).toEqual([
        'boards/b.yaml:9:3: unknown key "args" in boot, expected one of: machine, arch, cpu, memory, artifact, as, kernel, channel, expect, timeout',
      ]);
    });

    it('a machine or CPU with QEMU options (virt,dumpdtb=FILE; max,+vmx) is refused by check with its position', async () => {
      const r = await check(
        await workspace({
          'boards/b.yaml': bootBoard('  cpu: "max,+vmx"\n').replace(
            'machine: pc',
            'machine: "pc,dumpdtb=/tmp/x"',
          ),
        }),
      );
      expect(r.exitCode).toBe(2);
      expect(r.lines).toEqual([
        'boards/b.yaml:5:12: boot.machine: expected a QEMU machine name such as pc, q35 or virt (a plain name, no options)',
        'boards/b.yaml:9:8: boot.cpu: expected a QEMU CPU model such as qemu64, cortex-a57 or rv64 (a plain name, no options)',
      ]);
    });

    it('a boot.expect the linear-time matcher cannot run (a backreference) is refused by check with its position', async () => {
      const r = await check(
        await workspace({ 'boards/b.yaml': bootBoard('').replace('expect: SeaBIOS', 'expect: (a)\\1') }),
      );
      expect(r.exitCode).toBe(2);
      expect(r.lines).toEqual([
        'boards/b.yaml:8:11: boot.expect: expected a regular expression in RE2 syntax (no backreferences or lookaround; it is matched in linear time): invalid escape sequence: `\\1`',
      ]);
    });

    it('boot.expect (a+)+b over 300 kB of "a" (catastrophic for a backtracking engine) is matched in linear time', async () => {
      const compiled = await compileLinear('(a+)+b');
      if (!compiled.ok) throw new Error(compiled.reason);
      const dir = await tempDir('rr-watch-');
      const r = await watchProcess({
        command: 'sh',
        args: ['-c', "head -c 300000 /dev/zero | tr '\\0' a"],
        outputFile: join(dir, 'console'),
        expect: compiled.regex,
        timeoutMs: 60_000,
      });
      expect(r.outcome).toBe('exited');
      // A backtracking match would still be running at the 60 s limit (outcome 'timeout').
      expect(r.outputBytes).toBe(300_000);
    });

    it('a boot artifact that is a link out of the run folder (to /etc/shadow) is never handed to QEMU', async () => {
      const runDir = join(await tempDir('rr-boot-run-'), 'runs/r/b/1');
      await writeFakeRun(runDir, {
        board: 'b',
        runId: 'r',
        index: 1,
        artifact: 'other.bin',
        bytes: 'x',
        durationMs: 1,
        narHash: 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
        imageId: `sha256:${'0'.repeat(64)}`,
        sourceHash: '0'.repeat(64),
      });
      await symlink('/etc/shadow', join(runDir, 'artifacts/bios.bin'));
      const board = boardSchema.parse({
        image: 'i',
        commands: ['make'],
        artifacts: ['bios.bin'],
        boot: { machine: 'pc', arch: 'x86_64', artifact: 'bios.bin', expect: 'SeaBIOS', timeout: 4 },
      });
      const r = await bootRun({ boardName: 'b', board, runDir });
      expect(r.ok).toBe(false);
      expect(r.durationMs).toBe(0);
      expect(r.message).toMatch(
        /^artifact bios\.bin is not in .*artifacts; is boot\.artifact one of the board's artifacts\?$/,
      );
      expect(await readFile(r.log, 'utf8')).not.toMatch(/root:/);
    });

    it("a boot.kernel that is not one of the board's artifacts, or comes without as: initrd, is refused by check with its position", async () => {
      const initrdBoard = (boot: string) =>
        `image: i\ncommands: [make]\nartifacts: [initrd.gz, out.bin]\nboot:\n  machine: pc\n  arch: x86_64\n  artifact: initrd.gz\n  expect: busybox\n${boot}`;
      const traversal = await check(
        await workspace({ 'boards/b.yaml': initrdBoard('  as: initrd\n  kernel: ../../../boot/vmlinuz\n') }),
      );
      expect(traversal.exitCode).toBe(2);
      expect(traversal.lines).toEqual([
        'boards/b.yaml:10:11: boot.kernel: expected a path or glob relative to the source, without ".." or a leading "/"',
      ]);
      const undeclared = await check(
        await workspace({ 'boards/b.yaml': initrdBoard('  as: initrd\n  kernel: vmlinuz\n') }),
      );
      expect(undeclared.lines).toEqual([
        'boards/b.yaml:10:11: boot.kernel "vmlinuz" is not one of the board\'s artifacts, expected one of: initrd.gz, out.bin',
      ]);
      const withoutInitrd = await check(
        await workspace({ 'boards/b.yaml': initrdBoard('  kernel: out.bin\n') }),
      );
      expect(withoutInitrd.lines).toEqual([
        'boards/b.yaml:9:11: boot.kernel is only used with as: initrd (as is bios), expected as: initrd or no kernel',
      ]);
    });

    it('a boot kernel that is a link out of the run folder (to /etc/shadow) is never handed to QEMU', async () => {
      const runDir = join(await tempDir('rr-boot-run-'), 'runs/r/b/1');
      await writeFakeRun(runDir, {
        board: 'b',
        runId: 'r',
        index: 1,
        artifact: 'initrd.gz',
        bytes: 'x',
        durationMs: 1,
        narHash: 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
        imageId: `sha256:${'0'.repeat(64)}`,
        sourceHash: '0'.repeat(64),
      });
      await symlink('/etc/shadow', join(runDir, 'artifacts/vmlinuz'));
      const board = boardSchema.parse({
        image: 'i',
        commands: ['make'],
        artifacts: ['initrd.gz', 'vmlinuz'],
        boot: {
          machine: 'pc',
          arch: 'x86_64',
          artifact: 'initrd.gz',
          as: 'initrd',
          kernel: 'vmlinuz',
          expect: 'busybox',
          timeout: 4,
        },
      });
      const r = await bootRun({ boardName: 'b', board, runDir });
      expect(r.ok).toBe(false);
      expect(r.durationMs).toBe(0);
      expect(r.message).toMatch(
        /^kernel vmlinuz is not in .*artifacts; is boot\.kernel one of the board's artifacts\?$/,
      );
      expect(await readFile(r.log, 'utf8')).not.toMatch(/root:/);
    });

    const seabios = '/usr/share/seabios/bios-256k.bin';
    const qemuReady = existsSync(seabios) && existsSync('/usr/bin/qemu-system-x86_64');
    const asRoot = process.getuid?.() === 0;
    it.skipIf(!(qemuReady && asRoot) && !inCi)(
      'QEMU runs as uid 65534 in an empty network namespace, listens on nothing, holds no host file but the artifact copy, and dies at its time limit',
      async () => {
        const base = await tempDir('rr-boot-tmp-');
        await chmod(base, 0o755);
        const runDir = join(await tempDir('rr-boot-run-'), 'runs/r/b/1');
        await writeFakeRun(runDir, {
          board: 'b',
          runId: 'r',
          index: 1,
          artifact: 'bios.bin',
          bytes: 'x',
          durationMs: 1,
          narHash: 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
          imageId: `sha256:${'0'.repeat(64)}`,
          sourceHash: '0'.repeat(64),
        });
        await copyFile(seabios, join(runDir, 'artifacts/bios.bin'));
        const board = boardSchema.parse({
          image: 'i',
          commands: ['make'],
          artifacts: ['bios.bin'],
          boot: {
            machine: 'pc',
            arch: 'x86_64',
            artifact: 'bios.bin',
            channel: 'debugcon',
            expect: 'never printed',
            timeout: 4,
          },
        });
        const saved = process.env['TMPDIR'];
        process.env['TMPDIR'] = base;
        try {
          const running = bootRun({ boardName: 'b', board, runDir });
          let pid = '';
          for (let i = 0; i < 100 && !pid; i++) {
            await new Promise((r) => setTimeout(r, 50));
            const found = await execa('pgrep', ['-f', `^/usr/bin/qemu-system-x86_64 .*${base}`], {
              reject: false,
            });
            pid = found.stdout.trim().split('\n')[0] ?? '';
          }
          expect(pid).not.toBe('');
          await new Promise((r) => setTimeout(r, 500));
          const status = await readFile(`/proc/${pid}/status`, 'utf8');
          const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim();
          expect(field('Uid')?.split(/\s+/)).toEqual(Array(4).fill(String(BOOT_UID)));
          expect(field('Gid')?.split(/\s+/)).toEqual(Array(4).fill(String(BOOT_UID)));
          expect(field('CapEff')).toBe('0000000000000000');
          expect(field('NoNewPrivs')).toBe('1');
          expect(await readlink(`/proc/${pid}/ns/net`)).not.toBe(await readlink('/proc/self/ns/net'));
          // Its network namespace has no listening TCP, UDP or Unix socket at all.
          for (const table of ['tcp', 'tcp6', 'udp', 'udp6'])
            expect((await readFile(`/proc/${pid}/net/${table}`, 'utf8')).trim().split('\n')).toHaveLength(1);
          expect((await readFile(`/proc/${pid}/net/unix`, 'utf8')).trim().split('\n')).toHaveLength(1);
          // Open host files: at most the console it was handed and the artifact's read-only copy
          // (besides /dev/null, pipes and anonymous inodes); no path on its command line but that copy.
          const fds = await readdir(`/proc/${pid}/fd`);
          const targets = await Promise.all(
            fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')),
          );
          for (const t of targets.filter((t) => t.startsWith('/') && t !== '/dev/null'))
            expect(t).toMatch(/\/reprorom-boot-\w+\/(console\.out|firmware\.img)$/);
          const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
          expect(cmdline.filter((a) => a.includes('/')).slice(1)).toEqual([
            expect.stringMatching(/\/reprorom-boot-\w+\/firmware\.img$/),
          ]);
          const result = await running;
          expect(result.ok).toBe(false);
          expect(result.message).toMatch(/did not appear on debugcon within 4 s; QEMU was killed/);
          expect(result.durationMs).toBeLessThan(10_000);
          expect(existsSync(`/proc/${pid}`)).toBe(false);
          // Nothing of the private folder is left.
          expect(await readdir(base)).toEqual([]);
        } finally {
          if (saved === undefined) delete process.env['TMPDIR'];
          else process.env['TMPDIR'] = saved;
        }
      },
      30_000,
    );
  });
});
