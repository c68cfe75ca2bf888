/**
 * The shell script of the rebuilder workflows (ci --rebuilder), run by bash with `curl` and
 * `reprorom` replaced by stubs that record their arguments: what is attested for each exit
 * status of `verify`, and that the key never outlives the step.
 */

import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowPlan } from '../../src/ci/generate.js';
import { DEFAULT_REBUILD_SCHEDULE, rebuildScript } from '../../src/ci/rebuilder.js';

let dir = '';
const plan: WorkflowPlan = {
  shards: 1,
  runs: 2,
  images: ['firmware'],
  offlinePins: [],
  install: { kind: 'git', repo: 'example/reprorom', commit: 'c0ffee0000000000000000000000000000000001' },
  container: 'node:20-bookworm',
};
const script = rebuildScript(plan, {
  releaseUrl: 'https://example.org/release.tar.gz',
  builderId: 'ci-bot',
  schedule: DEFAULT_REBUILD_SCHEDULE,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rr-rebuilder-script-'));
  const bin = join(dir, 'bin');
  await mkdir(bin);
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'src', 'manifest.json'), '{}\n');
  await execa('tar', ['-czf', join(dir, 'release.tar.gz'), '-C', join(dir, 'src'), '.']);
  // curl -fsSL --retry 3 -o FILE URL: copies the fixture archive.
  await writeFile(
    join(bin, 'curl'),
    `#!/bin/sh\nwhile [ "$1" != "-o" ]; do shift; done\ncp "${dir}/release.tar.gz" "$2"\n`,
  );
  await writeFile(
    join(bin, 'reprorom'),
    `#!/bin/sh
echo "$*" >> calls
if [ "$1" = verify ]; then
  [ -f release/manifest.json ] || exit 9
  echo '{"boards":[{"runDir":"/runs/r1/b1/1"},{"runDir":null},{"runDir":"/runs/r2/b2/1"}]}'
  exit "$VERIFY_STATUS"
fi
cp rebuilder.key key-seen
echo envelope > attestation/ci-bot.intoto.jsonl
`,
  );
  await chmod(join(bin, 'curl'), 0o755);
  await chmod(join(bin, 'reprorom'), 0o755);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function runIn(status: number, key = 'KEY-TEXT') {
  const cwd = await mkdtemp(join(dir, 'job-'));
  const r = await execa('bash', ['-c', script], {
    cwd,
    reject: false,
    env: {
      PATH: `${join(dir, 'bin')}:${process.env['PATH']}`,
      VERIFY_STATUS: String(status),
      ...(key ? { REPROROM_REBUILDER_KEY: key } : {}),
    },
    extendEnv: false,
  });
  const calls = existsSync(join(cwd, 'calls'))
    ? (await readFile(join(cwd, 'calls'), 'utf8')).trim().split('\n')
    : [];
  return { r, calls, cwd };
}

describe('the rebuilder script', () => {
  it.each([0, 1])(
    'verify exit %i: attests every rebuilt board run with the key, then removes the key',
    async (status) => {
      const { r, calls, cwd } = await runIn(status);
      expect(r.exitCode, r.stderr).toBe(status);
      expect(calls).toEqual([
        'verify release --json',
        'attest release --key rebuilder.key --builder-id ci-bot --out attestation/ci-bot.intoto.jsonl --run /runs/r1/b1/1 /runs/r2/b2/1',
      ]);
      expect(await readFile(join(cwd, 'key-seen'), 'utf8')).toBe('KEY-TEXT\n');
      expect(existsSync(join(cwd, 'rebuilder.key'))).toBe(false);
      expect(existsSync(join(cwd, 'attestation/ci-bot.intoto.jsonl'))).toBe(true);
    },
  );

  it('verify failing otherwise (exit 4): nothing attested, the job fails with that status', async () => {
    const { r, calls, cwd } = await runIn(4);
    expect(r.exitCode).toBe(4);
    expect(calls).toEqual(['verify release --json']);
    expect(existsSync(join(cwd, 'attestation'))).toBe(false);
  });

  it('no key in the environment: exit 3 naming the secret, nothing run', async () => {
    const { r, calls } = await runIn(0, '');
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toMatch(/the secret REPROROM_REBUILDER_KEY .* is not set/);
    expect(calls).toEqual([]);
  });
});
