import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { containersOfProcess } from '../helpers/containers.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

const engine = await probeEngine();
const nix = await probeNix();

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('reprorom shell', () => {
  beforeAll(() => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
  });

  it("gives a shell in the board's image with its source at /build/src, as a non-root user, and writes no run", async () => {
    const ws = await copyWorkspace('rr-shell-');
    const child = execa(
      process.execPath,
      [join(repoRoot, 'bin/reprorom.js'), 'shell', 'seabios-qemu', '-w', ws],
      {
        input: 'id -u; pwd; test -f Makefile && echo has-makefile; exit 7\n',
        reject: false,
        env: { NO_COLOR: '1' },
      },
    );
    const pid = child.pid ?? -1;
    const r = await child;
    expect(r.exitCode).toBe(7);
    expect(r.stdout).toContain('1000\n/build/src\nhas-makefile');
    expect(r.stderr).toMatch(/NOT hermetic/);
    expect(existsSync(join(ws, '.reprorom/runs'))).toBe(false);
    // Only this CLI's containers: another shell of the same board elsewhere is not a leftover.
    expect(await containersOfProcess(pid)).toEqual([]);
  });

  it('runs one command in an image with -c', async () => {
    const r = await execa(
      process.execPath,
      [join(repoRoot, 'bin/reprorom.js'), 'shell', 'firmware', '-c', 'gcc --version'],
      {
        reject: false,
        stdin: 'ignore',
        cwd: repoRoot,
      },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^gcc \(Debian 12/);
  });
});
