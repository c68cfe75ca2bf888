/**
 * A pin must stay inside the workspace, as a local source does: `path:../outflake` (which
 * `pin verify` would copy into the world-readable /nix/store), a path flake reached
 * through a link leading out, and `tarball+file:` / `git+file:` references naming host
 * files are refused by `check` at FILE:LINE:COL, before nix is run. No engine or nix needed.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { expectNoStack } from './support.js';

const NAR = 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

describe('robustness: pins stay inside the workspace', () => {
  let ws = '';
  let outside = '';
  beforeAll(async () => {
    ws = await copyWorkspace('rr-pinout-');
    outside = await mkdtemp(join(tmpdir(), 'rr-outflake-'));
    await mkdir(join(outside, 'outflake'));
    await writeFile(join(outside, 'outflake', 'flake.nix'), '{ outputs = _: {}; }\n');
    await symlink(join(outside, 'outflake'), join(ws, 'linkflake'));
  });
  afterAll(async () => {
    await Promise.all([ws, outside].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
  });

  it.each([
    ['path:../outflake', /flake reference "path:\.\.\/outflake" is outside the workspace/],
    ['path:./linkflake', /flake folder "\.\/linkflake" leads outside the workspace through a symbolic link/],
    [
      'tarball+file:///etc/x.tar.gz',
      /flake reference "tarball\+file:\/\/\/etc\/x\.tar\.gz" names a local file/,
    ],
  ])('flake: %s is refused by check and by pin verify at FILE:1:8, exit 2', async (flake, line) => {
    await writeFile(join(ws, 'pins', 'out.yaml'), `flake: "${flake}"\nnarHash: ${NAR}\n`);
    const c = await runCli(['check', '-w', ws]);
    expect(c.exitCode, c.stdout + c.stderr).toBe(2);
    expect(c.stdout + c.stderr).toMatch(new RegExp(`pins/out\\.yaml:1:8: ${line.source}`));
    const v = await runCli(['pin', 'verify', 'out', '-w', ws]);
    expect(v.exitCode, v.stdout + v.stderr).toBe(2);
    expect(v.stderr).toMatch(new RegExp(`^reprorom: \\S*pins/out\\.yaml:1:8: ${line.source}`, 'm'));
    expectNoStack(c.stderr + v.stderr);
  });
});
