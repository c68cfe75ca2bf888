/**
 * Signals and closed pipes in the middle of a write: a build whose reader went away
 * (`| head -3`) cleans up as after a signal, and a build killed hard (SIGKILL) leaves a work
 * folder that the next build removes, as it removes the dead build's containers. A signal
 * during `release` or `sign` leaves all or nothing, and the message says which.
 */
import { existsSync, watch } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { board, CLI, containersOf, expectNoStack, leftovers, tag } from './support.js';

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
    /** Signature and envelope files in a release folder, and temporaries left there. */
    const signatureFiles = async (dir: string) =>
      (await readdir(dir, { recursive: true }))
        .map(String)
        .filter((f) => /\.(sig|asc)$|\.intoto\.jsonl$/.test(f))
        .sort();

    let released = '';
    let key = '';
    /** One small release (2 runs of a tiny board) and an ed25519 key, made once. */
    const release = async (): Promise<string> => {
      if (released) return released;
      const name = `${tag}-rel`;
      await board(
        ws,
        name,
        `commands: ['mkdir -p out && printf "rom\\\\n" > out/bios.rom']\nartifacts: [out/bios.rom]\n`,
      );
      const tmp = await mkdtemp(join(ws, 'signing-'));
      released = join(tmp, 'release');
      const r = await runCli(['release', name, '-w', ws, '--out', released, '--allow-dirty']);
      expect(r.exitCode, r.stderr).toBe(0);
      key = join(tmp, 'signer');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'signer', '-f', key]);
      return released;
    };

    it('sign of a release whose provenance is a folder: exit 2 naming it, no signature written', async () => {
      const copy = await mkdtemp(join(ws, 'sign-bad-'));
      await cp(await release(), copy, { recursive: true });
      const prov = join(copy, `${tag}-rel`, 'provenance.json');
      await rm(prov);
      await mkdir(prov);
      const r = await runCli(['sign', copy, '--key', key]);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toMatch(
        /^reprorom: cannot sign .*provenance\.json: it is a folder, expected a regular file$/m,
      );
      expectNoStack(r.stderr);
      expect(await signatureFiles(copy)).toEqual([]);
      expect(await leftovers(copy)).toEqual([]);
    });

    /** Child process ids of `pid` running `command` now (from /proc). */
    const childrenRunning = async (pid: number, command: string): Promise<number[]> => {
      const kids = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
      const found: number[] = [];
      for (const kid of kids.split(' ').filter(Boolean)) {
        const comm = await readFile(`/proc/${kid}/comm`, 'utf8').catch(() => '');
        if (comm.trim() === command) found.push(Number(kid));
      }
      return found;
    };

    it.each([[1], [2], [3], [4]])(
      'SIGINT while ssh-keygen makes signature %i of sign: every signature or none, and the message says which',
      async (nth) => {
        const copy = await mkdtemp(join(ws, 'sign-int-'));
        await cp(await release(), copy, { recursive: true });
        const child = execa(process.execPath, [CLI, 'sign', copy, '--key', key], {
          reject: false,
          stdin: 'ignore',
          env: { NO_COLOR: '1' },
          forceKillAfterDelay: false,
        });
        // The signal goes while the nth signing tool runs (or never, if signing was faster than the poll).
        const seen = new Set<number>();
        let done = false;
        void child.finally(() => {
          done = true;
        });
        while (!done && seen.size < nth) {
          for (const kid of await childrenRunning(child.pid ?? 0, 'ssh-keygen')) seen.add(kid);
          if (seen.size < nth) await new Promise((res) => setTimeout(res, 2));
        }
        if (!done) child.kill('SIGINT');
        const r = await child;
        const sigs = await signatureFiles(copy);
        expect(await leftovers(copy)).toEqual([]);
        expectNoStack(String(r.stderr));
        if (sigs.length === 0) {
          expect(r.exitCode, String(r.stderr)).toBe(130);
          expect(r.stderr).toMatch(/interrupted by SIGINT; partial results were discarded/);
        } else {
          // Manifest, release hashes, board hashes, provenance (.sig each) and the DSSE envelope.
          expect(sigs, String(r.stderr)).toHaveLength(5);
          if (r.exitCode !== 0) {
            expect(r.exitCode).toBe(130);
            expect(r.stderr).toMatch(/interrupted by SIGINT after every signature was written/);
          }
          const v = await runCli(['verify', copy, '--no-rebuild', '--key', `${key}.pub`]);
          expect(v.exitCode, v.stdout + v.stderr).toBe(0);
        }
      },
    );

    it.each([
      ['its temporary folder appears', true],
      ['OUT appears', false],
    ])(
      'SIGTERM during release when %s: the message says truly whether OUT was written',
      async (_when, atTemp) => {
        const name = `${tag}-rel`;
        await release();
        const parent = await mkdtemp(join(ws, 'rel-int-'));
        const out = join(parent, 'out');
        const child = execa(
          process.execPath,
          [CLI, 'release', name, '-w', ws, '--out', out, '--allow-dirty'],
          { reject: false, stdin: 'ignore', env: { NO_COLOR: '1' }, forceKillAfterDelay: false },
        );
        // inotify: the signal goes within a millisecond of the name appearing, once (the temporary
        // folder gives a second event when it is renamed, and a second signal is another case).
        let sent = false;
        const watcher = watch(dirname(out), (_event, file) => {
          const f = String(file);
          if (!sent && (atTemp ? f.startsWith(`.${basename(out)}.`) : f === basename(out))) {
            sent = true;
            child.kill('SIGTERM');
          }
        });
        const r = await child;
        watcher.close();
        expectNoStack(String(r.stderr));
        expect(await leftovers(parent)).toEqual([]);
        if (existsSync(out)) {
          // A signal after the command's own handlers are gone ends it by default: it says nothing, so nothing false.
          if (r.exitCode === undefined) expect(r.signal).toBe('SIGTERM');
          else if (r.exitCode !== 0) {
            expect(r.exitCode, String(r.stderr)).toBe(130);
            expect(r.stderr).toMatch(
              /interrupted by SIGTERM after the release was written completely to .*; nothing was discarded/,
            );
            expect(r.stderr).not.toMatch(/partial results were discarded/);
          }
          const c = await execa('sha256sum', ['-c', 'hashes.txt'], { cwd: out, reject: false });
          expect(c.exitCode, c.stdout + c.stderr).toBe(0);
        } else {
          expect(r.exitCode, String(r.stderr)).toBe(130);
          expect(r.stderr).toMatch(/interrupted by SIGTERM; partial results were discarded/);
          expect(await readdir(parent)).toEqual([]);
        }
      },
    );
  },
);
