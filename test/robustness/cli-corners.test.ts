/**
 * The CLI's rough corners (issue 19 item 5): what is not a workspace, sizes in limits, the
 * advice for a remote engine that does not answer, one error prefix, README and --help agreeing,
 * every environment variable reprorom reads documented.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { expectNoStack } from './support.js';

describe('CLI corners', () => {
  let ws = '';
  let scratch = '';
  beforeAll(async () => {
    ws = await copyWorkspace('rr-corners-');
    scratch = await mkdtemp(join(tmpdir(), 'rr-corners-empty-'));
  });
  afterAll(async () => {
    await rm(ws, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  });

  it('a folder with no pins/, images/ or boards/ is not a workspace: exit 2, not "ok: 0 files"', async () => {
    await writeFile(join(scratch, 'notes.txt'), 'hello\n');
    const r = await runCli(['check', '-w', scratch]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).not.toMatch(/ok: 0 files/);
    expect(r.stderr).toMatch(
      /^reprorom: ".*" is not a reprorom workspace: it has no pins\/, images\/ or boards\/ folder$/m,
    );
    expectNoStack(r.stderr);
    // One of the three is enough to be a (small) workspace.
    await mkdir(join(scratch, 'boards'));
    const one = await runCli(['check', '-w', scratch]);
    expect(one.exitCode, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^ok: 0 files/m);
  });

  it('limits take sizes such as 4GiB and 4G; a size that is not one is exit 2 at its position', async () => {
    const file = join(ws, 'boards', 'seabios-qemu.yaml');
    const original = await readFile(file, 'utf8');
    try {
      await writeFile(file, `${original}limits: { memory: 4GiB, disk: 2G }\n`);
      const ok = await runCli(['check', '-w', ws]);
      expect(ok.exitCode, ok.stderr).toBe(0);
      await writeFile(file, `${original}limits: { memory: 4 gigs }\n`);
      const bad = await runCli(['check', '-w', ws]);
      expect(bad.exitCode).toBe(2);
      const line = original.split('\n').length;
      expect(bad.stderr).toMatch(
        new RegExp(
          `seabios-qemu\\.yaml:${line}:19: limits\\.memory: expected bytes: a whole number, or a size such as 4GiB, 512MiB or 4G \\(at least 16MiB\\)`,
        ),
      );
    } finally {
      await writeFile(file, original);
    }
  });

  it('a remote DOCKER_HOST that does not answer: exit 3, advice about the remote engine, not "start dockerd"', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const env = { DOCKER_HOST: 'tcp://127.0.0.1:1' };
    const r = await runCli(['build', 'seabios-qemu', '-w', ws], { env });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(
      /^reprorom: no Docker engine answers at tcp:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)$/m,
    );
    expect(r.stderr).toMatch(
      /→ the engine is on another machine: check that it runs there and that tcp:\/\/127\.0\.0\.1:1 is reachable/,
    );
    expect(r.stderr).not.toMatch(/dockerd/);
    expectNoStack(r.stderr);
    const d = await runCli(['doctor', '-w', ws], { env });
    expect(d.exitCode).toBe(3);
    expect(d.stdout + d.stderr).toMatch(/the engine is on another machine/);
    expect(d.stdout + d.stderr).not.toMatch(/dockerd/);
  });

  it('one error prefix: commander\'s own errors start with "reprorom:" like every other', async () => {
    for (const args of [['build', '--bogus'], ['compare'], ['frobnicate'], ['build', '--runs']]) {
      const r = await runCli(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^reprorom: /);
      expect(r.stderr, args.join(' ')).not.toMatch(/^error:/m);
    }
  });

  it('the README commands table and --help agree: every command exists and every flag it lists is in its --help', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const rows = readme
      .split('\n')
      .filter((l) => l.startsWith('| `reprorom '))
      .map((l) => /^\| `reprorom ([^`]+)`/.exec(l)?.[1] ?? '');
    expect(rows.length).toBeGreaterThan(15);
    for (const row of rows) {
      const words = row.split(' ');
      const path: string[] = [];
      for (const w of words) {
        if (!/^[a-z]+$/.test(w) || path.length === 2) break;
        path.push(w);
      }
      // `ci github\|circleci`: each alternative is a command; a flag must be in one of them.
      const alts = /^[a-z]+(\\\|[a-z]+)+$/.test(words[path.length] ?? '')
        ? (words[path.length] ?? '').split('\\|').map((a) => [...path, a])
        : [path];
      let helps = '';
      for (const p of alts) {
        const help = await runCli([...p, '--help']);
        expect(help.exitCode, `${p.join(' ')} --help`).toBe(0);
        expect(help.stdout, row).toMatch(new RegExp(`^Usage: reprorom ${p.join(' ')}`));
        helps += help.stdout;
      }
      for (const flag of row.match(/--[a-z][a-z-]*/g) ?? []) expect(helps, `${row}: ${flag}`).toContain(flag);
    }
    const verify = await runCli(['verify', '--help']);
    expect(verify.stdout).toMatch(/^Usage: reprorom verify <DIR\|file-URL>/m);
  });

  it('every REPROROM_ variable the code reads is documented in the README', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const names = new Set<string>();
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.name.endsWith('.ts'))
          for (const m of (await readFile(p, 'utf8')).matchAll(/REPROROM_[A-Z_]+/g)) names.add(m[0]);
      }
    };
    await walk(join(repoRoot, 'src'));
    expect([...names].sort()).toEqual(
      expect.arrayContaining(['REPROROM_HEARTBEAT', 'REPROROM_JOBS', 'REPROROM_QUIET']),
    );
    for (const n of names) expect(readme, n).toMatch(new RegExp(`\\| \`${n}\` \\|`));
    // `report` exits 1 on a mismatch, and the exit codes table says so.
    expect(readme).toMatch(/^\| 1 \| .*`report` too, after writing its page \|$/m);
  });
});
