/**
 * Signals and closed pipes in the middle of a write: a build whose reader went away
 * (`| head -3`) cleans up as after a signal, and a build killed hard (SIGKILL) leaves a work
 * folder that the next build removes, as it removes the dead build's containers.
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { board, CLI, containersOf, tag } from './support.js';

const engine = await probeEngine();
const nix = await probeNix();

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))(
  'robustness: signals mid-write and closed pipes',
  () => {
    let ws = '';
    beforeAll(async () => {
      if (inCi) {
        requireReal(engine);
        requireReal(nix);
      }
      ws = await copyWorkspace('rr-midwrite-');
    });
    afterAll(async () => {
      await rm(ws, { recursive: true, force: true });
    });

    it('build piped into head -3 (stdout and stderr): exit 141, no work folder, no build.lock, no run folder, no container', async () => {
      const name = `${tag}-piped`;
      await board(ws, name, "commands: ['sleep 2', 'echo x > out.bin']\nartifacts: [out.bin]\n");
      const r = await execa(
        'bash',
        [
          '-c',
          `"${process.execPath}" "${CLI}" build ${name} --runs 2 -w "${ws}" 2>&1 | head -3; echo "rc=\${PIPESTATUS[0]}"`,
        ],
        { reject: false, env: { NO_COLOR: '1' } },
      );
      expect(r.stdout).toMatch(/rc=141$/);
      const state = join(ws, '.reprorom');
      expect(existsSync(join(state, 'build.lock'))).toBe(false);
      expect(existsSync(join(state, 'work')) ? await readdir(join(state, 'work')) : []).toEqual([]);
      expect(existsSync(join(state, 'runs')) ? await readdir(join(state, 'runs')) : []).toEqual([]);
      expect(await containersOf(name)).toEqual([]);
    });

    it('a SIGKILLed build leaves its work folder; the next build removes it, as its container', async () => {
      const name = `${tag}-killed`;
      await board(ws, name, "commands: ['sleep 60']\nartifacts: [README]\n");
      const child = execa(process.execPath, [CLI, 'build', name, '--runs', '1', '-w', ws], {
        reject: false,
        stdin: 'ignore',
        env: { NO_COLOR: '1' },
      });
      const until = Date.now() + 120_000;
      while ((await containersOf(name)).length === 0 && Date.now() < until)
        await new Promise((res) => setTimeout(res, 200));
      child.kill('SIGKILL');
      await child;
      const work = join(ws, '.reprorom', 'work');
      expect(await readdir(work)).toHaveLength(1);
      const next = `${tag}-after`;
      await board(ws, next, "commands: ['echo x > out.bin']\nartifacts: [out.bin]\n");
      const r = await runCli(['build', next, '-w', ws]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/removed 1 work folder\(s\) left by an earlier build that died/);
      expect(await readdir(work)).toEqual([]);
      expect(await containersOf(name)).toEqual([]);
    });
  },
);
