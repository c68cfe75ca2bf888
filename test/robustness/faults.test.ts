/**
 * Fault and abuse cases: each asserts what the user sees (message, exit code) and
 * that nothing was lost or left behind. The table in docs/robustness.md lists them.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

const engine = await probeEngine();
const nix = await probeNix();
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .+:\d+:\d+/);
const left = async (board: string) =>
  (await execa('docker', ['ps', '-aq', '--filter', `label=reprorom.board=${board}`])).stdout.trim();

let ws = '';
async function board(name: string, body: string) {
  await mkdir(join(ws, 'src', name), { recursive: true });
  await writeFile(join(ws, 'src', name, 'README'), 'x\n');
  await writeFile(
    join(ws, 'boards', `${name}.yaml`),
    `image: firmware\nsource: { type: local, path: src/${name} }\n${body}`,
  );
}

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))(
  'robustness: faults and a hostile board',
  () => {
    const mounts: string[] = [];
    beforeAll(async () => {
      if (inCi) {
        requireReal(engine);
        requireReal(nix);
      }
      ws = await copyWorkspace('rr-robust-');
    });
    afterAll(async () => {
      for (const m of mounts) await execa('umount', [m], { reject: false });
    });

    it('engine stopped: a clear exit-3 message with the fix, no stack trace', async () => {
      await board('ok1', 'commands: [echo ok > out.bin]\nartifacts: [out.bin]\n');
      const r = await runCli(['build', 'ok1', '-w', ws], {
        env: { DOCKER_HOST: 'unix:///tmp/reprorom-no-engine.sock' },
      });
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toMatch(/Docker engine/i);
      expect(r.stderr).toMatch(/dockerd|docker\.io/);
      noStack(r.stderr);
    });

    it('engine answering slowly: the tool gives up with a timeout message instead of hanging', async () => {
      const held: Socket[] = [];
      const server = createServer((s) => held.push(s));
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
      const port = (server.address() as { port: number }).port;
      const started = Date.now();
      const r = await runCli(['build', 'ok1', '-w', ws], { env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` } });
      for (const s of held) s.destroy();
      server.close();
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toMatch(/timeout|timed out/i);
      expect(Date.now() - started).toBeLessThan(60_000);
      noStack(r.stderr);
    });

    it('memory limit: exceeding it is reported with the limit', async () => {
      await board(
        'hog',
        'commands: [\'python3 -c "b = bytearray(400*1024*1024); print(len(b))"\']\nartifacts: [README]\nlimits: { memory: 67108864, pids: 256 }\n',
      );
      const r = await runCli(['build', 'hog', '-w', ws]);
      expect(r.exitCode).toBe(4);
      expect(r.stdout + r.stderr).toMatch(/exceeded its memory limit of 64 MiB/);
      expect(await left('hog')).toBe('');
    });

    it('pids limit: a fork storm fails and the message points at the pids limit', async () => {
      await board(
        'forks',
        "commands: ['for i in $(seq 1 200); do sleep 5 & done; wait']\nartifacts: [README]\nlimits: { memory: 1073741824, pids: 32 }\n",
      );
      const r = await runCli(['build', 'forks', '-w', ws]);
      expect(r.exitCode).toBe(4);
      expect(r.stdout + r.stderr).toMatch(/pids limit of 32/);
      expect(await left('forks')).toBe('');
    });

    it('sandbox: no network interface but lo, no Docker socket, no capabilities, no new privileges, non-root', async () => {
      await board(
        'probe',
        "commands:\n  - 'ls /sys/class/net > net.txt'\n  - 'test ! -e /var/run/docker.sock && echo no-socket > sock.txt'\n  - 'grep -E \"^(CapEff|NoNewPrivs)\" /proc/self/status > status.txt'\n  - 'id -u > uid.txt'\n  - 'cp /bin/sh ./sh-copy && chmod u+s ./sh-copy && ./sh-copy -c \"id -u\" > setuid.txt'\nartifacts: [net.txt, sock.txt, status.txt, uid.txt, setuid.txt]\n",
      );
      const r = await runCli(['build', 'probe', '--json', '-w', ws]);
      expect(r.exitCode, r.stderr).toBe(0);
      const dir = JSON.parse(r.stdout).boards[0].runs[0].dir as string;
      const read = (f: string) => readFile(join(dir, 'artifacts', f), 'utf8');
      expect((await read('net.txt')).trim()).toBe('lo');
      expect(await read('sock.txt')).toBe('no-socket\n');
      expect(await read('status.txt')).toMatch(/CapEff:\s+0000000000000000\nNoNewPrivs:\s+1/);
      expect((await read('uid.txt')).trim()).toBe('1000');
      expect((await read('setuid.txt')).trim()).toBe('1000');
    });

    it('an artifact glob with .. is refused at check time (exit 2, located)', async () => {
      const w = await copyWorkspace('rr-robust-glob-');
      await writeFile(
        join(w, 'boards/glob.yaml'),
        'image: firmware\ncommands: [true]\nartifacts:\n  - "../*"\n',
      );
      const r = await runCli(['check', '-w', w]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(
        /boards\/glob\.yaml:4:5: artifacts\.0: expected a path or glob relative to the source/,
      );
    });

    it('concurrency: a second build of the same workspace waits for the first; both run folders are complete', async () => {
      await board('c1', 'commands: [sleep 4, echo one > out.bin]\nartifacts: [out.bin]\n');
      await board('c2', 'commands: [echo two > out.bin]\nartifacts: [out.bin]\n');
      const first = execa(
        process.execPath,
        [join(repoRoot, 'bin/reprorom.js'), 'build', 'c1', '--json', '-w', ws],
        { reject: false, stdin: 'ignore', env: { NO_COLOR: '1' } },
      );
      await new Promise((r) => setTimeout(r, 700));
      const second = await runCli(['build', 'c2', '--json', '-w', ws]);
      const one = await first;
      expect(one.exitCode, String(one.stderr)).toBe(0);
      expect(second.exitCode, second.stderr).toBe(0);
      expect(second.stderr).toMatch(/waiting for the build of pid \d+/);
      for (const out of [String(one.stdout), second.stdout]) {
        const dir = JSON.parse(out).boards[0].runs[0].dir as string;
        const check = await execa('sha256sum', ['-c', 'hashes.txt'], { cwd: dir });
        expect(check.stdout).toMatch(/: OK$/);
      }
      expect(existsSync(join(ws, '.reprorom/build.lock'))).toBe(false);
    });

    it('a corrupted image cache entry is detected and healed with the same image ID', async () => {
      const cache = await mkdtemp(join(tmpdir(), 'rr-robust-cache-'));
      const env = { REPROROM_CACHE: cache };
      const first = JSON.parse(
        (await runCli(['image', 'build', 'firmware', '--no-load', '--json', '-w', ws], { env })).stdout,
      );
      const key = (await readdir(join(cache, 'images')))[0]!;
      const archive = join(cache, 'images', key, 'image.tar');
      await truncate(archive, 1000);
      const second = await runCli(['image', 'build', 'firmware', '--no-load', '--json', '-w', ws], { env });
      expect(second.exitCode, second.stderr).toBe(0);
      expect(JSON.parse(second.stdout)).toMatchObject({ id: first.id, cached: false });
      const third = JSON.parse(
        (await runCli(['image', 'build', 'firmware', '--no-load', '--json', '-w', ws], { env })).stdout,
      );
      expect(third).toMatchObject({ id: first.id, cached: true });
    });

    it('the state folder on a small full file system: a clear message, nothing half-written, a re-run after freeing space works', async () => {
      const w = await copyWorkspace('rr-robust-full-');
      ws = w;
      await board('big', "commands: ['head -c 8000000 /dev/zero > big.bin']\nartifacts: [big.bin]\n");
      const state = join(w, '.reprorom');
      await mkdir(state, { recursive: true });
      await execa('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', state]);
      mounts.push(state);
      const r = await runCli(['build', 'big', '-w', w]);
      expect([3, 4]).toContain(r.exitCode);
      expect(r.stdout + r.stderr).toMatch(/no space left/i);
      noStack(r.stderr);
      const leftovers = (await readdir(state, { recursive: true }))
        .map(String)
        .filter((p) => /\.tmp|manifest\.json/.test(p));
      expect(leftovers).toEqual([]);
      await execa('umount', [state]);
      mounts.pop();
      const again = await runCli(['build', 'big', '-w', w]);
      expect(again.exitCode, again.stderr).toBe(0);
    });
  },
);
