/**
 * The CLI runs from an esbuild bundle (scripts/bundle.mjs) in which dockerode's ssh
 * transport, BuildKit parts and build-context packer are stubs that load the real files on
 * first use, and docker-modem's request log is only formatted when it is on. These run
 * the built CLI: a stub that loaded itself, or a file the bundle lost, fails here.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
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
  it('reaches the real ssh transport for an ssh:// DOCKER_HOST (loaded on first use)', async () => {
    const port = await closedPort();
    const r = await runCli(['doctor', '--json'], { env: { DOCKER_HOST: `ssh://nobody@127.0.0.1:${port}` } });
    const engine = (JSON.parse(r.stdout) as { checks: Array<{ name: string; detail: string }> }).checks.find(
      (c) => c.name === 'docker engine',
    );
    // ssh2 itself tried to connect: the refusal is the network's, not a missing or looping module.
    expect(engine?.detail).toMatch(/ECONNREFUSED/);
    expect(r.stderr).not.toMatch(/Maximum call stack|Cannot find module|is not a function/);
  });

  it('keeps ssh2, gRPC and protobufjs out of the bundle, so start-up never compiles them', async () => {
    const dir = join(repoRoot, 'dist', 'bundle');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.js'));
    expect(files).toContain('main.js');
    const code = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('\n');
    for (const marker of ['docker-modem/lib/ssh.js', 'dockerode/lib/session.js', 'dockerode/lib/buildkit.js'])
      expect(code).toContain(`"${marker}"`);
    // Strings only the real libraries contain.
    for (const inner of ['grpc.keepalive_time_ms', 'ssh-userauth', 'protobufjs'])
      expect(code).not.toContain(inner);
  });

  it('keeps the build-context packer (tar-fs 2, bl, readable-stream 3) out of the bundle', async () => {
    const dir = join(repoRoot, 'dist', 'bundle');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.js'));
    const code = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('\n');
    expect(code).toContain('createRequire(');
    for (const marker of ['"tar-fs"', '"@balena/dockerignore"', '"docker-modem/lib/http_duplex.js"'])
      expect(code).toContain(marker);
    // bl's buffer-list marker and tar-fs 2's directory-mode option exist nowhere else.
    for (const inner of ['_isBufferList', 'dmode']) expect(code).not.toContain(inner);
  });

  it('starts a build without compiling the YAML, schema or tar libraries (they load after its container starts)', async () => {
    const dir = join(repoRoot, 'dist', 'bundle');
    const build = (await readdir(dir)).find((f) => /^build-\w+\.js$/.test(f));
    expect(build).toBeDefined();
    // Every file a build imports statically, from the command's own chunk and main.js.
    const seen = new Set<string>();
    const queue = ['main.js', build!];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const code = await readFile(join(dir, file), 'utf8');
      for (const m of code.matchAll(/(?:^|[;}\s])import\s*(?:[\w{}\s,*$]*from\s*)?"\.\/([\w.-]+\.js)"/g))
        queue.push(m[1]!);
    }
    expect(seen.size).toBeGreaterThan(5);
    const code = (await Promise.all([...seen].map((f) => readFile(join(dir, f), 'utf8')))).join('\n');
    expect(code).toContain('/containers/create');
    // Strings only yaml, zod and tar-stream hold.
    for (const inner of ['tag:yaml.org,2002:map', 'invalid_type', 'ustar']) expect(code).not.toContain(inner);
  });

  it("still writes docker-modem's request log when DEBUG asks for it, and only then", async () => {
    const on = await runCli(['doctor', '--json'], { env: { DEBUG: 'modem' } });
    expect(on.stderr).toMatch(/modem Sending: \{\s*path: '\/version'/);
    const off = await runCli(['doctor', '--json'], { env: { DEBUG: '' } });
    expect(off.stderr).not.toMatch(/Sending:/);
  });
});
