/**
 * A failing build shows its cause where the user looks: the run's last lines under the
 * failure (text), in `--json`, in JUnit and in the GitHub annotation, with the log's path.
 * A real container: the compiler-like error line is printed by the build itself.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { board, expectNoStack, tag } from './support.js';

const engine = await probeEngine();
const nix = await probeNix();

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('failure cause', () => {
  let ws = '';
  const name = `${tag}-cc-fails`;
  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    ws = await copyWorkspace('rr-cause-');
    await board(
      ws,
      name,
      [
        'commands:',
        '  - "for i in 1 2 3 4 5 6 7 8; do echo noise $i; done"',
        `  - "echo 'main.c:3:1: error: expected ; before }' >&2"`,
        '  - exit 2',
        'artifacts: [README]',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await rm(ws, { recursive: true, force: true });
  });

  it('a compiler error appears under the failure, in --json, JUnit and the GitHub annotation', async () => {
    const junit = join(ws, 'junit.xml');
    const text = await runCli(['build', name, '-w', ws, '--log-lines', '3', '--junit', junit], {
      env: { GITHUB_ACTIONS: 'true' },
    });
    expect(text.exitCode).toBe(4);
    expectNoStack(text.stderr);
    expect(text.stdout).toContain('| main.c:3:1: error: expected ; before }');
    expect(text.stdout).toMatch(/ {2}log: .*\.log$/m);
    // Only the last three lines: the early noise is not repeated.
    expect(text.stdout).not.toContain('| noise 1');
    expect(text.stdout).toMatch(
      /::error title=reprorom build failed: .*%0Amain\.c:3:1: error: expected ; before \}/,
    );
    expect(await readFile(junit, 'utf8')).toContain('main.c:3:1: error: expected ; before }');

    const json = await runCli(['build', name, '-w', ws, '--json']);
    expect(json.exitCode).toBe(4);
    const run = JSON.parse(json.stdout).boards[0].runs[0];
    expect(run.ok).toBe(false);
    expect(run.logTail).toContain('main.c:3:1: error: expected ; before }');
    expect(run.logTail).toContain('noise 1');
  });
});
