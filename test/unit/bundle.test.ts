/**
 * The CLI runs from one plain esbuild bundle (scripts/bundle.mjs) with dockerode left out.
 * These run the built CLI: `--version` and `check` must need nothing but the bundle (that is
 * what makes them start fast), and the engine adapter must still reach the real dockerode
 * and, through it, ssh2 for an ssh:// DOCKER_HOST.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('bundled CLI', () => {
  it('answers --version and check from the bundle alone (no node_modules beside it)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-bundle-'));
    try {
      await mkdir(join(dir, 'dist'));
      await cp(join(repoRoot, 'dist', 'bundle'), join(dir, 'dist', 'bundle'), { recursive: true });
      await cp(join(repoRoot, 'bin'), join(dir, 'bin'), { recursive: true });
      await cp(join(repoRoot, 'package.json'), join(dir, 'package.json'));
      const run = (args: string[]) =>
        execa(process.execPath, [join(dir, 'bin', 'reprorom.js'), ...args], {
          cwd: dir,
          reject: false,
          env: { NO_COLOR: '1' },
        });
      const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
      const version = await run(['--version']);
      expect(version.stderr).toBe('');
      expect(version.stdout.trim()).toBe(pkg.version);
      const check = await run(['check', '--workspace', repoRoot, '--json']);
      expect(check.stderr).toBe('');
      expect(check.exitCode).toBe(0);
      expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, problems: [] });
      // A command that talks to the engine needs dockerode, which is not bundled.
      const doctor = await run(['doctor', '--json']);
      expect(doctor.stderr).toMatch(/dockerode/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves dockerode (and with it ssh2, gRPC, protobufjs) out of the bundle', async () => {
    const dir = join(repoRoot, 'dist', 'bundle');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.js'));
    expect(files).toContain('main.js');
    const code = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('\n');
    expect(code).toMatch(/from\s*"dockerode"/);
    // Strings only those libraries contain.
    for (const inner of ['grpc.keepalive_time_ms', 'ssh-userauth', 'protobufjs', 'docker-modem'])
      expect(code).not.toContain(inner);
  });

  it('reaches the real ssh transport for an ssh:// DOCKER_HOST', async () => {
    const port = await closedPort();
    const r = await runCli(['doctor', '--json'], { env: { DOCKER_HOST: `ssh://nobody@127.0.0.1:${port}` } });
    const engine = (JSON.parse(r.stdout) as { checks: Array<{ name: string; detail: string }> }).checks.find(
      (c) => c.name === 'docker engine',
    );
    // ssh2 itself tried to connect: the refusal is the network's, not a missing module.
    expect(engine?.detail).toMatch(/ECONNREFUSED/);
    expect(r.stderr).not.toMatch(/Maximum call stack|Cannot find module|is not a function/);
  });
});
