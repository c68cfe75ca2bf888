/**
 * What a user sees during and after `build`, with the real engine: heartbeat lines off a
 * terminal during a sleep-based build, a closing line with the total time, and boards known
 * not to be reproducible (expectMismatch): expected (exit 0) with their reason, news when they
 * reproduce, never excused by `compare` without --allow-expected or against published hashes,
 * refused by `release` and `verify`.
 */
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

const engine = await probeEngine();
const nix = await probeNix();
const tag = `ux${process.pid.toString(36)}`;
const SLEEP = `${tag}-sleep`;
const RAND = `${tag}-rand`;
const NEWS = `${tag}-news`;
const REASON = 'random bytes on purpose';

async function board(ws: string, name: string, body: string): Promise<void> {
  await mkdir(join(ws, 'src', name), { recursive: true });
  await writeFile(join(ws, 'src', name, 'README'), 'x\n');
  await writeFile(
    join(ws, 'boards', `${name}.yaml`),
    `image: firmware\nsource: { type: local, path: src/${name} }\n${body}`,
  );
}

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))(
  'build: signs of life and expected mismatches',
  () => {
    let ws = '';
    let runDir = '';
    let built = { stdout: '', stderr: '', exitCode: -1 };
    beforeAll(async () => {
      if (inCi) {
        requireReal(engine);
        requireReal(nix);
      }
      ws = await copyWorkspace('rr-ux-');
      await board(ws, SLEEP, 'commands: ["sleep 3", "echo slept > out.bin"]\nartifacts: [out.bin]\n');
      await board(
        ws,
        RAND,
        `commands: ["head -c 16 /dev/urandom > out.bin"]\nartifacts: [out.bin]\nexpectMismatch: ${REASON}\n`,
      );
      await board(
        ws,
        NEWS,
        'commands: ["echo same > out.bin"]\nartifacts: [out.bin]\nexpectMismatch: it used to stamp the date\n',
      );
      built = await runCli(['build', SLEEP, RAND, NEWS, '--runs', '2', '--jobs', '2', '-w', ws], {
        env: { REPROROM_HEARTBEAT: '1' },
      });
      runDir = /^run folder: (.*)$/m.exec(built.stdout)?.[1] ?? '';
    }, 600_000);
    afterAll(async () => {
      await rm(ws, { recursive: true, force: true });
    });

    it('off a terminal, a heartbeat line while a silent build runs, and a closing line with the total time', () => {
      expect(built.exitCode, built.stderr).toBe(0);
      expect(built.stderr).toMatch(
        new RegExp(
          `^\\[${SLEEP}\\] run [12]/2 still running \\(build, \\d+s; no output yet\\) — \\d+/6 runs done$`,
          'm',
        ),
      );
      const last = built.stderr.trimEnd().split('\n').at(-1);
      expect(last).toMatch(
        /^\[build\] build finished \(3 extra runs to name the culprit\) in \d+s: 9 runs, 0 failed; reproducible except as expected: 2 reproducible, 1 expected mismatch \(3 artifacts\)$/,
      );
    });

    it('an expected mismatch exits 0 and shows its reason and culprit; one row per artifact, no column per run', () => {
      const row = built.stdout.split('\n').find((l) => l.startsWith(`${RAND}/out.bin`));
      expect(row).toMatch(
        new RegExp(
          `expected mismatch\\s+1/2\\s+[0-9a-f]{12} vs [0-9a-f]{12}\\s+${REASON}; differs even in the reference environment with the clock frozen \\(nondeterministic\\)`,
        ),
      );
      expect(built.stdout).toMatch(
        new RegExp(`^${SLEEP}/out.bin\\s+reproducible\\s+2/2\\s+[0-9a-f]{12}$`, 'm'),
      );
      expect(built.stdout).toMatch(
        new RegExp(`^expected mismatch: ${RAND} is declared not reproducible yet \\(${REASON}\\)$`, 'm'),
      );
      expect(built.stdout).toMatch(
        new RegExp(`^news: ${NEWS} is now reproducible, .*remove expectMismatch`, 'm'),
      );
      expect(built.stdout).not.toMatch(/#1/);
    });

    it('compare never excuses it by itself; --allow-expected does between run folders, never against published hashes', async () => {
      expect(runDir).not.toBe('');
      const plain = await runCli(['compare', runDir]);
      expect(plain.exitCode, plain.stdout).toBe(1);
      const allowed = await runCli(['compare', runDir, '--allow-expected', '-w', ws]);
      expect(allowed.exitCode, allowed.stdout + allowed.stderr).toBe(0);
      expect(allowed.stdout).toMatch(/reproducible except as expected: 2 reproducible, 1 expected mismatch/);
      // Run 1's hashes, published: comparing run 2 against them is never excused.
      const published = join(ws, 'published');
      await mkdir(published);
      await cp(join(runDir, RAND, '1', 'hashes.txt'), join(published, 'hashes.txt'));
      const against = await runCli([
        'compare',
        join(runDir, RAND, '2'),
        join(published, 'hashes.txt'),
        '--allow-expected',
        '-w',
        ws,
      ]);
      expect(against.exitCode, against.stdout + against.stderr).toBe(1);
      expect(against.stdout).toMatch(/NOT reproducible/);
    });

    it('release and verify refuse a board declared not reproducible, before building', async () => {
      const out = join(ws, 'release-out');
      const rel = await runCli(['release', RAND, '-w', ws, '--out', out]);
      expect(rel.exitCode, rel.stderr).toBe(2);
      expect(rel.stderr).toMatch(
        new RegExp(
          `^reprorom: \\S*boards/${RAND}\\.yaml:5:17: board ${RAND} is declared not reproducible \\(expectMismatch: ${REASON}\\), so release refuses it$`,
          'm',
        ),
      );
      expect(rel.stderr).not.toMatch(/started/);
      const hashes = join(runDir, RAND, '1', 'hashes.txt');
      const ver = await runCli(['verify', hashes, '--rom', 'out.bin', '--board', RAND, '-w', ws]);
      expect(ver.exitCode, ver.stderr).toBe(2);
      expect(ver.stderr).toMatch(/so verify refuses it/);
      expect(ver.stderr).not.toMatch(/started/);
    });
  },
);
