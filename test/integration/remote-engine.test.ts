/**
 * Builds against a remote engine named by DOCKER_HOST: socat exposes the local
 * engine's socket on a loopback TCP port, and reprorom talks to it as it would to
 * any tcp:// engine. Sources go in and artifacts come out through the archive
 * API, so nothing depends on sharing a file system with the engine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

const engine = await probeEngine();
const nix = await probeNix();

const freePort = () =>
  new Promise<number>((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });

/** Wait until something accepts connections on the port. */
async function listening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((res) => {
      const c = createConnection({ port, host: '127.0.0.1' }, () => {
        c.end();
        res(true);
      });
      c.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`socat is not listening on 127.0.0.1:${port}`);
}

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('remote engine (DOCKER_HOST=tcp://…)', () => {
  let ws = '';
  let socat: ChildProcess | undefined;
  let host = '';
  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    ws = await copyWorkspace('rr-remote-');
    await mkdir(join(ws, 'tiny'));
    await writeFile(join(ws, 'tiny', 'README'), 'a tiny local board\n');
    await writeFile(
      join(ws, 'boards', 'tiny.yaml'),
      'image: firmware\nsource: { type: local, path: tiny }\ncommands: [echo hi > out.bin]\nartifacts: [out.bin]\n',
    );
    const port = await freePort();
    host = `tcp://127.0.0.1:${port}`;
    socat = spawn(
      'socat',
      [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, 'UNIX-CONNECT:/var/run/docker.sock'],
      { stdio: 'ignore' },
    );
    await listening(port);
  });
  afterAll(async () => {
    if (socat?.pid) socat.kill('SIGTERM');
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  it('builds a tiny local board twice through it, reproducibly, with the expected bytes', async () => {
    const r = await runCli(['build', 'tiny', '--runs', '2', '--json', '-w', ws], {
      env: { DOCKER_HOST: host },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.boards[0].runs.map((x: { ok: boolean }) => x.ok)).toEqual([true, true]);
    expect(report.comparison.ok).toBe(true);
    const manifest = JSON.parse(await readFile(join(report.boards[0].runs[0].dir, 'manifest.json'), 'utf8'));
    expect(manifest.artifacts).toEqual([
      { path: 'artifacts/out.bin', sha256: createHash('sha256').update('hi\n').digest('hex'), size: 3 },
    ]);
  });

  it('builds the sample board seabios-qemu through it', async () => {
    const r = await runCli(['build', 'seabios-qemu', '--json', '-w', ws], { env: { DOCKER_HOST: host } });
    expect(r.exitCode, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout).boards[0].runs[0];
    expect(run.ok).toBe(true);
    const manifest = JSON.parse(await readFile(join(run.dir, 'manifest.json'), 'utf8'));
    expect(manifest.artifacts.map((a: { path: string }) => a.path)).toEqual(['artifacts/out/bios.bin']);
    expect(manifest.artifacts[0].size).toBeGreaterThan(64 * 1024);
  });

  it('really uses DOCKER_HOST: with socat gone the same build cannot reach an engine (exit 3)', async () => {
    socat?.kill('SIGTERM');
    await new Promise((r) => socat?.once('exit', r));
    const r = await runCli(['build', 'tiny', '-w', ws], { env: { DOCKER_HOST: host } });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain(host.replace('tcp://', ''));
  });
});
