/**
 * A hostile board probing its sandbox, and two builds racing on one workspace.
 * Network reachability, writes into the user's tree and escaping artifact links
 * are covered by test/integration/board-build.test.ts (named in docs/robustness.md).
 */
import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { board, CLI, containersOf, expectNoStack, tag } from './support.js';

const engine = await probeEngine();
const nix = await probeNix();

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('robustness: sandbox and concurrency', () => {
  let ws = '';
  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    ws = await copyWorkspace('rr-sandbox-');
  });
  afterAll(async () => {
    await rm(ws, { recursive: true, force: true });
  });

  it('memory limit: a board allocating 300 MiB under a 64 MiB limit fails with exit 4 naming the limit', async () => {
    const name = `${tag}-hog`;
    await board(
      ws,
      name,
      'commands: [\'python3 -c "b = bytearray(300*1024*1024); print(len(b))"\']\nartifacts: [README]\nlimits: { memory: 67108864, pids: 256 }\n',
    );
    const r = await runCli(['build', name, '-w', ws]);
    expect(r.exitCode).toBe(4);
    expect(r.stdout + r.stderr).toMatch(/exceeded its memory limit of 64 MiB/);
    expect(r.stdout + r.stderr).toMatch(/raise limits\.memory|FAILED/);
    expectNoStack(r.stderr);
    expect(await containersOf(name)).toEqual([]);
  });

  it.each([
    ['/tmp', '/tmp/big.bin'],
    ['/build (where the source is)', 'big.bin'],
  ])(
    'disk limit: writing 64 MiB into %s under an 8 MiB limit fails with exit 4 naming the disk limit',
    async (_where, file) => {
      const name = `${tag}-disk-${file.startsWith('/') ? 'tmp' : 'build'}`;
      await board(
        ws,
        name,
        `commands: ['head -c 64M /dev/zero > ${file}']\nartifacts: [README]\nlimits: { disk: 8388608 }\n`,
      );
      const r = await runCli(['build', name, '-w', ws]);
      expect(r.exitCode, r.stderr).toBe(4);
      expect(r.stdout + r.stderr).toMatch(
        new RegExp(
          `board ${name} run 1 exceeded its disk limit of 8 MiB \\(no space left in /build or /tmp\\)`,
        ),
      );
      expectNoStack(r.stderr);
      expect(await containersOf(name)).toEqual([]);
    },
  );

  it('disk limit: nothing else in the container is writable (/var/tmp, /etc), and a build within the limit succeeds', async () => {
    const name = `${tag}-disk-ro`;
    await board(
      ws,
      name,
      "commands: ['if echo x > /var/tmp/x || echo x > /etc/x; then exit 1; fi; head -c 1M /dev/zero > /tmp/ok; cp /tmp/ok out.bin']\nartifacts: [out.bin]\nlimits: { disk: 8388608 }\n",
    );
    const r = await runCli(['build', name, '-w', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it('time limit: a board sleeping past limits.time 3 is stopped with exit 4 naming the time limit; no container is left', async () => {
    const name = `${tag}-hang`;
    await board(ws, name, 'commands: [sleep 120]\nartifacts: [README]\nlimits: { time: 3 }\n');
    const started = Date.now();
    const r = await runCli(['build', name, '-w', ws]);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stdout + r.stderr).toMatch(
      new RegExp(`board ${name} run 1 exceeded its time limit of 3 s and was stopped`),
    );
    expectNoStack(r.stderr);
    expect(await containersOf(name)).toEqual([]);
  });

  it('pids limit: a fork storm under pids 32 fails with exit 4 naming the pids limit', async () => {
    const name = `${tag}-forks`;
    await board(
      ws,
      name,
      "commands: ['for i in $(seq 1 200); do sleep 5 & done; wait']\nartifacts: [README]\nlimits: { memory: 1073741824, pids: 32 }\n",
    );
    const r = await runCli(['build', name, '-w', ws]);
    expect(r.exitCode).toBe(4);
    expect(r.stdout + r.stderr).toMatch(/hit its pids limit of 32/);
    expectNoStack(r.stderr);
    expect(await containersOf(name)).toEqual([]);
  });

  it('sandbox probe: only lo, no Docker socket, CapEff 0, NoNewPrivs 1, uid 1000, no setuid-root copy', async () => {
    const name = `${tag}-probe`;
    await board(
      ws,
      name,
      [
        'commands:',
        "  - 'ls /sys/class/net > net.txt'",
        "  - 'if test -S /var/run/docker.sock || test -e /run/docker.sock; then echo socket-visible; else echo no-socket; fi > sock.txt'",
        '  - \'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status > status.txt\'',
        "  - 'id -u > uid.txt'",
        "  - 'cp /bin/sh ./sh-copy && if chown 0:0 ./sh-copy 2>/dev/null; then echo chown-allowed; else echo chown-refused; fi > chown.txt'",
        '  - \'chmod u+s ./sh-copy && ./sh-copy -c "id -u" > setuid.txt\'',
        'artifacts: [net.txt, sock.txt, status.txt, uid.txt, chown.txt, setuid.txt]',
        '',
      ].join('\n'),
    );
    const r = await runCli(['build', name, '--json', '-w', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    const dir = JSON.parse(r.stdout).boards[0].runs[0].dir as string;
    const read = (f: string) => readFile(join(dir, 'artifacts', f), 'utf8');
    expect((await read('net.txt')).trim()).toBe('lo');
    expect((await read('sock.txt')).trim()).toBe('no-socket');
    expect(await read('status.txt')).toMatch(/CapEff:\s+0000000000000000\nNoNewPrivs:\s+1/);
    expect((await read('uid.txt')).trim()).toBe('1000');
    expect((await read('chown.txt')).trim()).toBe('chown-refused');
    // Even its own setuid copy runs as the build user: no-new-privileges.
    expect((await read('setuid.txt')).trim()).toBe('1000');
    expect(await containersOf(name)).toEqual([]);
  });

  it('host identity masked: boot_id, /proc/cmdline, cpuinfo, meminfo read empty, cgroup without the container ID; nproc and cc still work; the manifest lists the masks', async () => {
    const name = `${tag}-hostid`;
    await board(
      ws,
      name,
      [
        'commands:',
        // The ROM: host data that reads the same in two runs on one machine.
        "  - 'cat /proc/sys/kernel/random/boot_id /proc/cmdline > rom.bin'",
        "  - 'cat /proc/cpuinfo /proc/meminfo /proc/stat > hw.txt'",
        "  - 'cat /proc/self/cgroup > cgroup.txt'",
        "  - 'nproc > nproc.txt && getconf _NPROCESSORS_ONLN >> nproc.txt'",
        '  - \'printf "int main(void){return 0;}\\n" > t.c && cc t.c -o t && ./t && echo cc-ok > cc.txt\'',
        'artifacts: [rom.bin, hw.txt, cgroup.txt, nproc.txt, cc.txt]',
        '',
      ].join('\n'),
    );
    const r = await runCli(['build', name, '--json', '-w', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    const dir = JSON.parse(r.stdout).boards[0].runs[0].dir as string;
    const read = (f: string) => readFile(join(dir, 'artifacts', f), 'utf8');
    // The host's own values, so the test fails if they leak in any form.
    const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    expect(bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await read('rom.bin')).toBe('');
    expect(await read('hw.txt')).toBe('');
    expect(await read('cgroup.txt')).not.toMatch(/[0-9a-f]{64}/);
    const [nproc, online] = (await read('nproc.txt')).trim().split('\n').map(Number);
    expect(nproc).toBeGreaterThanOrEqual(1);
    expect(online).toBeGreaterThanOrEqual(1);
    expect((await read('cc.txt')).trim()).toBe('cc-ok');
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.sandbox.masked).toEqual(
      expect.arrayContaining([
        '/proc/cmdline',
        '/proc/sys/kernel/random/boot_id',
        '/proc/cpuinfo',
        '/proc/meminfo',
        '/proc/kcore',
      ]),
    );
    expect(manifest.sandbox.readOnly).toContain('/proc/sys');
    expect(await containersOf(name)).toEqual([]);
  });

  it('log cap: 8 MB of build output per run under limits.log 1MiB (and limits.disk 8MiB) leaves a log of at most 1 MiB with its head, its tail and how much was dropped', async () => {
    const name = `${tag}-chatty`;
    await board(
      ws,
      name,
      [
        'commands:',
        // About 6 MB in 200,000 lines, then one line of 2 MiB without a break.
        '  - \'echo FIRST-LINE; seq -f "line %g of the middle" 1 200000; head -c 2097152 /dev/zero | tr "\\\\0" x; echo; echo LAST-LINE\'',
        'artifacts: [README]',
        'limits: { disk: 8MiB, log: 1MiB }',
        '',
      ].join('\n'),
    );
    const r = await runCli(['build', name, '--runs', '2', '--json', '-w', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/log over 1 MiB: keeping its head and tail only \(limits\.log\)/);
    const logPath = JSON.parse(r.stdout).boards[0].log as string;
    const { size } = await stat(logPath);
    expect(size).toBeLessThan(1024 * 1024 + 4096);
    expect(size).toBeGreaterThan(512 * 1024);
    const log = await readFile(logPath, 'utf8');
    expect(log).toMatch(/FIRST-LINE/);
    expect(log.trimEnd()).toMatch(/LAST-LINE$/);
    const note =
      /\[reprorom\] log capped at 1\.0 MiB \(limits\.log\): (\d+) bytes \((\d+) lines\) of build output dropped here/.exec(
        log,
      );
    expect(note).not.toBeNull();
    // Two runs of about 8 MB each went in; all but about 1 MiB of it is counted as dropped.
    expect(Number(note?.[1])).toBeGreaterThan(14_000_000);
    expect(Number(note?.[2])).toBeGreaterThan(350_000);
  });

  it('an artifact glob matching ../ is refused at check time (exit 2, located), before any build', async () => {
    const w = await copyWorkspace('rr-sandbox-glob-');
    try {
      await execa(
        'sh',
        ['-c', `printf 'image: firmware\\ncommands: [true]\\nartifacts:\\n  - "../*"\\n' > boards/glob.yaml`],
        {
          cwd: w,
        },
      );
      const r = await runCli(['check', '-w', '.'], { cwd: w });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(
        /^boards\/glob\.yaml:4:5: artifacts\.0: expected a path or glob relative to the source, without "\.\." or a leading "\/"$/m,
      );
      const b = await runCli(['build', 'glob', '-w', '.'], { cwd: w });
      expect(b.exitCode).toBe(2);
      expect(existsSync(join(w, '.reprorom/runs'))).toBe(false);
    } finally {
      await rm(w, { recursive: true, force: true });
    }
  });

  it('two builds of one workspace at once: the second waits for the first; both run folders complete and verify', async () => {
    const a = `${tag}-c1`;
    const b = `${tag}-c2`;
    await board(ws, a, 'commands: [sleep 4, echo one > out.bin]\nartifacts: [out.bin]\n');
    await board(ws, b, 'commands: [echo two > out.bin]\nartifacts: [out.bin]\n');
    const first = execa(process.execPath, [CLI, 'build', a, '--json', '-w', ws], {
      reject: false,
      stdin: 'ignore',
      env: { NO_COLOR: '1' },
    });
    // Start the second once the first holds the lock.
    for (let i = 0; i < 100 && !existsSync(join(ws, '.reprorom/build.lock')); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const second = await runCli(['build', b, '--json', '-w', ws]);
    const one = await first;
    expect(one.exitCode, String(one.stderr)).toBe(0);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/waiting for the build of pid \d+ in this workspace to finish/);
    const dirs = [String(one.stdout), second.stdout].map(
      (o) => JSON.parse(o).boards[0].runs[0].dir as string,
    );
    expect(new Set(dirs).size).toBe(2);
    for (const dir of dirs) {
      const check = await execa('sha256sum', ['-c', 'hashes.txt'], { cwd: dir });
      expect(check.stdout).toMatch(/out\.bin: OK$/);
      const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
      expect(manifest.artifacts).toHaveLength(1);
    }
    expect(await readFile(join(dirs[0]!, 'artifacts/out.bin'), 'utf8')).toBe('one\n');
    expect(await readFile(join(dirs[1]!, 'artifacts/out.bin'), 'utf8')).toBe('two\n');
    expect(existsSync(join(ws, '.reprorom/build.lock'))).toBe(false);
  });
});
