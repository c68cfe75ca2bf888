/**
 * Run folders from elsewhere (issue 31 items 2 and 7): compare hashes the artifacts a run
 * folder carries and refuses anything but regular files by name; merge copies regular files
 * only, by content. No engine needed: the folders are written as `reprorom build` leaves them.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { compareSets } from '../../src/compare/compare.js';
import { loadInputs } from '../../src/compare/inputs.js';
import { mergeRuns } from '../../src/merge/merge.js';
import { ReproromError } from '../../src/util/errors.js';
import { writeFakeRun } from '../helpers/runFolder.js';

const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

/** RUN/p/1 and RUN/p/2 with identical artifacts: reproducible until changed. */
async function twoRuns(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'rr-foreign-'));
  temps.push(root);
  for (const index of [1, 2])
    await writeFakeRun(join(root, 'RUN', 'p', String(index)), {
      board: 'p',
      runId: 'RUN',
      index,
      artifact: 'p.bin',
      bytes: 'rom\n',
      durationMs: 1,
      narHash: `sha256-${'A'.repeat(43)}=`,
      imageId: `sha256:${'a'.repeat(64)}`,
      sourceHash: 'h1',
      hashesTxt: true,
    });
  return join(root, 'RUN');
}

/** compare's outcome: "reproducible", "not reproducible", or the refusal's exit code and message. */
async function compareOutcome(dir: string): Promise<string> {
  try {
    return compareSets(await loadInputs([dir])).ok ? 'reproducible' : 'not reproducible';
  } catch (err) {
    if (err instanceof ReproromError) return `exit ${err.exitCode}: ${err.message}`;
    throw err;
  }
}

describe('robustness: run folders from elsewhere', () => {
  it('compare: an artifact deleted, or replaced by a folder, a FIFO, a link to /dev/zero, /etc/shadow or other bytes is a named failure, never reproducible', async () => {
    expect(await compareOutcome(await twoRuns())).toBe('reproducible');
    const cases: Array<[string, (f: string, root: string) => Promise<unknown>, RegExp]> = [
      ['deleted', (f) => unlink(f), /exit 2: .*p\.bin is missing/],
      [
        'a folder',
        async (f) => {
          await unlink(f);
          return mkdir(f);
        },
        /exit 2: refused .*p\.bin: it is a folder/,
      ],
      [
        'a FIFO',
        async (f) => {
          await unlink(f);
          return execa('mkfifo', [f]);
        },
        /exit 2: refused .*p\.bin: it is a FIFO/,
      ],
      [
        '/dev/zero',
        async (f) => {
          await unlink(f);
          return symlink('/dev/zero', f);
        },
        /exit 2: refused .*it is a symbolic link \(to \/dev\/zero\)/,
      ],
      [
        '/etc/shadow',
        async (f) => {
          await unlink(f);
          return symlink('/etc/shadow', f);
        },
        /exit 2: refused .*symbolic link \(to \/etc\/shadow\)/,
      ],
      [
        'other bytes',
        async (f, root) => {
          await writeFile(join(root, 'other.bin'), 'rom\n');
          await unlink(f);
          await symlink(join(root, 'other.bin'), f);
        },
        /exit 2: refused .*symbolic link/,
      ],
    ];
    for (const [label, change, expected] of cases) {
      const run = await twoRuns();
      await change(join(run, 'p', '2', 'artifacts', 'p.bin'), join(run, '..'));
      expect(await compareOutcome(run), label).toMatch(expected);
    }
    // Both runs' files replaced alike: equal bytes that disagree with their manifests.
    const run = await twoRuns();
    for (const n of ['1', '2']) await writeFile(join(run, 'p', n, 'artifacts', 'p.bin'), 'other\n');
    expect(await compareOutcome(run)).toBe('not reproducible');
  });

  it('merge: a link to a host file (an artifact, the artifacts folder, a log) is refused by name (exit 2) and --out is not written', async () => {
    const changes: Array<(run: string) => Promise<unknown>> = [
      async (run) => {
        await unlink(join(run, 'p', '1', 'artifacts', 'p.bin'));
        await symlink('/etc/shadow', join(run, 'p', '1', 'artifacts', 'p.bin'));
      },
      async (run) => {
        await rm(join(run, 'p', '1', 'artifacts'), { recursive: true });
        await symlink(tmpdir(), join(run, 'p', '1', 'artifacts'));
      },
      (run) => symlink('/etc/shadow', join(run, 'p.log')),
    ];
    for (const change of changes) {
      const run = await twoRuns();
      await change(run);
      const out = join(run, '..', 'merged');
      await expect(mergeRuns([run], out)).rejects.toMatchObject({
        exitCode: 2,
        message: expect.stringMatching(/refused .*: it is a symbolic link/),
      });
      expect(existsSync(out)).toBe(false);
      expect(await compareOutcome(run)).toMatch(/^exit 2: refused/);
    }
  });
});
