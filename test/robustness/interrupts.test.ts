/**
 * SIGINT and SIGTERM at each stage a user can hit: nix evaluation, image
 * assembly, image load, container run. After each: exit 130, no container, no
 * half-written cache entry or run folder, and the next run works unaided.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

const engine = await probeEngine();
const nix = await probeNix();

/** Start the CLI, send `signal` once `marker` shows on stderr, and return what the user saw. */
async function interruptAt(
  args: string[],
  marker: RegExp,
  signal: 'SIGINT' | 'SIGTERM',
  env: Record<string, string> = {},
) {
  const child = execa(process.execPath, [join(repoRoot, 'bin/reprorom.js'), ...args], {
    reject: false,
    stdin: 'ignore',
    env: { NO_COLOR: '1', ...env },
    // The tool needs a moment to remove its container; execa must not SIGKILL it meanwhile.
    forceKillAfterDelay: false,
  });
  let err = '';
  let sent = false;
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    if (!sent && marker.test(err)) {
      sent = true;
      child.kill(signal);
    }
  });
  const r = await child;
  return { exitCode: r.exitCode, stderr: String(r.stderr), sent };
}

const leftovers = async (dir: string) =>
  existsSync(dir)
    ? (await readdir(dir, { recursive: true })).map(String).filter((p) => /\.tmp|\.work-|tmp-/.test(p))
    : [];

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('robustness: interruptions', () => {
  let ws = '';
  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    ws = await copyWorkspace('rr-intr-');
  });

  it.each([
    ['SIGINT', /evaluating the nix develop environment/],
    ['SIGTERM', /assembling \d+ store paths/],
  ] as const)(
    '%s during image build (%s) leaves no half-written cache entry; the next build works',
    async (signal, marker) => {
      const cache = await mkdtemp(join(tmpdir(), 'rr-intr-cache-'));
      const r = await interruptAt(['image', 'build', 'firmware', '--no-load', '-w', ws], marker, signal, {
        REPROROM_CACHE: cache,
      });
      expect(r.sent).toBe(true);
      expect(r.exitCode).toBe(130);
      expect(r.stderr).toMatch(new RegExp(`interrupted by ${signal}`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(await leftovers(join(cache, 'images'))).toEqual([]);
      const again = await runCli(['image', 'build', 'firmware', '--no-load', '--json', '-w', ws], {
        env: { REPROROM_CACHE: cache },
      });
      expect(again.exitCode, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout).cached).toBe(false);
    },
  );

  it('SIGTERM during image load leaves the engine without a half-loaded tag; the next build loads it', async () => {
    const built = JSON.parse((await runCli(['image', 'build', 'firmware', '--json', '-w', ws])).stdout) as {
      id: string;
    };
    await execa('docker', ['rmi', '-f', built.id], { reject: false });
    const r = await interruptAt(
      ['image', 'build', 'firmware', '-w', ws],
      /loading into the Docker engine/,
      'SIGTERM',
    );
    expect(r.exitCode === 130 || r.exitCode === 0).toBe(true); // a fast load may finish first
    const again = await runCli(['image', 'build', 'firmware', '--json', '-w', ws]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect((await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', built.id])).stdout).toBe(
      built.id,
    );
  });

  it('SIGTERM during a container run removes the container and writes no run; the next run works', async () => {
    await mkdir(join(ws, 'src', 'nap'), { recursive: true });
    await writeFile(join(ws, 'src', 'nap', 'README'), 'x\n');
    await writeFile(
      join(ws, 'boards', 'nap.yaml'),
      'image: firmware\nsource: { type: local, path: src/nap }\ncommands: [sleep 60, echo ok > out.bin]\nartifacts: [out.bin]\n',
    );
    const r = await interruptAt(['build', 'nap', '-w', ws], /run 1\/1 started/, 'SIGTERM');
    expect(r.exitCode).toBe(130);
    expect(r.stderr).toMatch(/interrupted by SIGTERM/);
    const left = await execa('docker', ['ps', '-aq', '--filter', 'label=reprorom.board=nap']);
    expect(left.stdout.trim()).toBe('');
    expect(await leftovers(join(ws, '.reprorom'))).toEqual([]);
    expect(existsSync(join(ws, '.reprorom/build.lock'))).toBe(false);
    await writeFile(
      join(ws, 'boards', 'nap.yaml'),
      'image: firmware\nsource: { type: local, path: src/nap }\ncommands: [echo ok > out.bin]\nartifacts: [out.bin]\n',
    );
    const again = await runCli(['build', 'nap', '-w', ws]);
    expect(again.exitCode, again.stderr).toBe(0);
  });
});
