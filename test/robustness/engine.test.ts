/**
 * Engine faults: stopped before a run, lost during a run, answering too slowly.
 * The engine is never really stopped: DOCKER_HOST points at a missing socket, at
 * a socat proxy to the real socket that the test kills, or at a listener that
 * accepts and never answers. The real dockerd is left alone.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { board, containersOf, expectNoStack, interruptAt, leftovers, tag } from './support.js';

const engine = await probeEngine();
const nix = await probeNix();

/** The user-facing lines: everything but progress (`[board] …`) and hints (`  → …`). */
const messageLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('reprorom:'));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as { port: number }).port;
  await new Promise((res) => s.close(res));
  return port;
}

/** A TCP proxy to the real socket, in its own process group so its forked children die with it. */
function startProxy(port: number): ResultPromise {
  return execa(
    'socat',
    [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, 'UNIX-CONNECT:/var/run/docker.sock'],
    { detached: true, reject: false, stdin: 'ignore' },
  );
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await execa(
      'docker',
      ['-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.Version}}'],
      {
        reject: false,
      },
    );
    if (ok.exitCode === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`socat proxy on ${port} did not come up`);
}

function killGroup(p: ResultPromise): void {
  if (p.pid) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('robustness: engine faults', () => {
  let ws = '';
  const proxies: ResultPromise[] = [];
  const servers: Server[] = [];
  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    ws = await copyWorkspace('rr-engine-');
    await board(ws, `${tag}-ok`, 'commands: [echo ok > out.bin]\nartifacts: [out.bin]\n');
  });
  afterAll(async () => {
    for (const p of proxies) killGroup(p);
    // A run that lost its engine cannot remove its container: do it through the real socket.
    const orphans = await containersOf(`${tag}-lost`);
    if (orphans.length > 0) await execa('docker', ['rm', '-f', ...orphans], { reject: false });
    for (const s of servers) s.close();
    await rm(ws, { recursive: true, force: true });
  });

  it('engine stopped before a run: exit 3, one line naming the endpoint, the fix as hint, no stack trace', async () => {
    const r = await runCli(['build', `${tag}-ok`, '-w', ws], {
      env: { DOCKER_HOST: 'unix:///tmp/reprorom-no-engine.sock' },
    });
    expect(r.exitCode).toBe(3);
    const lines = messageLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Docker engine.*unix:\/\/\/tmp\/reprorom-no-engine\.sock/);
    expect(r.stderr).toMatch(/→ .*dockerd/);
    expectNoStack(r.stderr);
    expect(await leftovers(join(ws, '.reprorom'))).toEqual([]);
  });

  it.each([['garbage'], ['ftp://x']])(
    'DOCKER_HOST=%s: build and doctor exit 3 naming the malformed value and the accepted forms',
    async (value) => {
      const r = await runCli(['build', `${tag}-ok`, '-w', ws], { env: { DOCKER_HOST: value } });
      expect(r.exitCode, r.stderr).toBe(3);
      const lines = messageLines(r.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`DOCKER_HOST=${value} is malformed`);
      expect(r.stderr).toMatch(/→ set DOCKER_HOST to unix:\/\/\/PATH, tcp:\/\/HOST:PORT/);
      expect(r.stderr).not.toMatch(/dockerd|ENOTFOUND/);
      expectNoStack(r.stderr);
      const d = await runCli(['doctor'], { env: { DOCKER_HOST: value } });
      expect(d.exitCode).toBe(3);
      expect(d.stdout + d.stderr).toContain(`DOCKER_HOST=${value} is malformed`);
      expect(d.stdout + d.stderr).toMatch(/→ set DOCKER_HOST to unix:/);
    },
  );

  it('DOCKER_HOST=ssh://… with no engine there: exit 3, and no DEP0170 url.parse warning reaches the user', async () => {
    const r = await runCli(['build', `${tag}-ok`, '-w', ws], {
      env: { DOCKER_HOST: 'ssh://nobody@127.0.0.1:1' },
    });
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).not.toMatch(/DEP0170|DeprecationWarning|trace-deprecation/);
    expect(messageLines(r.stderr)).toHaveLength(1);
    expectNoStack(r.stderr);
  });

  it('engine lost during a run: a one-line engine error (exit 3), then a retried run removes the orphan and completes', async () => {
    const name = `${tag}-lost`;
    await board(ws, name, 'commands: [sleep 6, echo ok > out.bin]\nartifacts: [out.bin]\n');
    const port = await freePort();
    const proxy = startProxy(port);
    proxies.push(proxy);
    await waitForPort(port);
    const env = { DOCKER_HOST: `tcp://127.0.0.1:${port}` };
    const started = Date.now();
    // "Interrupt" the engine instead of the tool: kill the proxy once the run has started.
    const child = interruptAt(['build', name, '-w', ws], async () => false, 'SIGINT', env);
    for (let i = 0; i < 200 && (await containersOf(name)).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500));
    killGroup(proxy);
    const r = await child;
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(r.exitCode, r.stderr).toBe(3);
    const lines = messageLines(r.stderr);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/Docker engine|engine at tcp:\/\/127\.0\.0\.1/);
    expectNoStack(r.stderr);
    expect(await leftovers(join(ws, '.reprorom'))).toEqual([]);
    expect(existsSync(join(ws, '.reprorom/build.lock'))).toBe(false);
    // The container could not be removed without an engine: the next build removes it.
    expect(await containersOf(name)).toHaveLength(1);
    const proxy2 = startProxy(port);
    proxies.push(proxy2);
    await waitForPort(port);
    await board(ws, name, 'commands: [echo ok > out.bin]\nartifacts: [out.bin]\n');
    const again = await runCli(['build', name, '-w', ws], { env });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/removed 1 container\(s\) left by an earlier run that died/);
    expect(await containersOf(name)).toEqual([]);
    killGroup(proxy2);
  });

  describe('engine accepting connections and never answering', () => {
    let host = '';
    beforeAll(async () => {
      const held: Socket[] = [];
      const server = createServer((s) => held.push(s));
      server.on('close', () => {
        for (const s of held) s.destroy();
      });
      servers.push(server);
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
      host = `tcp://127.0.0.1:${(server.address() as { port: number }).port}`;
    });

    it.each([
      ['doctor', (): string[] => ['doctor', '-w', ws]],
      ['build', (): string[] => ['build', `${tag}-ok`, '-w', ws]],
    ])('%s gives up with a timeout message (exit 3) in under 60 s', async (_cmd, args) => {
      const started = Date.now();
      const r = await runCli(args(), { env: { DOCKER_HOST: host }, timeoutMs: 120_000 });
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(r.exitCode, r.stderr + r.stdout).toBe(3);
      expect(r.stdout + r.stderr).toMatch(/did not answer in time \(timeout\)/);
      expectNoStack(r.stderr);
    });
  });

  describe('DOCKER_HOST answering but not a Docker engine', () => {
    const hosts: Record<string, string> = {};
    beforeAll(async () => {
      // Loopback only: a web server that answers every path with an HTML 404, and an SSH banner.
      const web = createHttpServer((_req, res) => {
        res.writeHead(404, { 'content-type': 'text/html' });
        res.end('<!DOCTYPE HTML>\n<html><body>\u001b[31mnot here</body></html>\n');
      });
      const ssh = createServer((s) => {
        s.on('error', () => undefined);
        s.end('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
      });
      for (const [name, server] of [
        ['an HTTP server', web],
        ['an SSH server', ssh],
      ] as const) {
        servers.push(server as unknown as Server);
        await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
        hosts[name] = `tcp://127.0.0.1:${(server.address() as { port: number }).port}`;
      }
    });

    it.each(['an HTTP server', 'an SSH server'])(
      '%s: build and doctor exit 3 saying DOCKER_HOST answers but is not a Docker engine',
      async (kind) => {
        const host = hosts[kind] ?? '';
        const r = await runCli(['build', `${tag}-ok`, '-w', ws], {
          env: { DOCKER_HOST: host },
          timeoutMs: 120_000,
        });
        expect(r.exitCode, r.stderr).toBe(3);
        expect(messageLines(r.stderr)).toEqual([
          expect.stringMatching(
            new RegExp(
              `^reprorom: DOCKER_HOST=${host.replace(/\./g, '\\.')} answers but is not a Docker engine \\(`,
            ),
          ),
        ]);
        expect(r.stderr).toMatch(/→ point DOCKER_HOST at a Docker engine/);
        expect(r.stderr).not.toContain('\u001b');
        expectNoStack(r.stderr);
        const d = await runCli(['doctor', '-w', ws], { env: { DOCKER_HOST: host }, timeoutMs: 120_000 });
        expect(d.exitCode).toBe(3);
        expect(d.stdout + d.stderr).toMatch(/answers but is not a Docker engine/);
      },
    );
  });
});
