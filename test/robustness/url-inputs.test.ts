/**
 * `url` inputs reach the host only through the workspace: a `file:` URL outside it is
 * refused by `check` (located, without looking whether the file exists, never printing
 * its sha256), a FIFO, device or folder inside it by name at once, a URL with a host or an
 * encoded "/" with one line instead of an internal error, an endless download at its cap,
 * and a cache that cannot be made with a line naming the cache and REPROROM_CACHE.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheDir } from '../../src/util/paths.js';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { board, containersOf, expectNoStack, tag } from './support.js';

const engine = await probeEngine();
const nix = await probeNix();
const QUICK = { timeoutMs: 60_000 };
const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const WRONG = 'e'.repeat(64);

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))('robustness: url inputs and the host', () => {
  let ws = '';
  let tmp = '';
  let server: Server | undefined;
  const name = `${tag}-url`;
  const boardFile = () => join(ws, 'boards', `${name}.yaml`);
  /** The board with one url input. */
  const withInput = (url: string, hash = WRONG) =>
    board(
      ws,
      name,
      `inputs:\n  - type: url\n    url: "${url}"\n    sha256: ${hash}\n    path: in.bin\ncommands: [cp in.bin out.bin]\nartifacts: [out.bin]\n`,
    );
  const located = (line: RegExp) => new RegExp(`^reprorom: [^ ]*boards/${name}\\.yaml:5:10: ${line.source}`);
  const expectOneLine = (
    r: { exitCode: number; stdout: string; stderr: string },
    code: number,
    line: RegExp,
  ) => {
    expect(r.exitCode, r.stdout + r.stderr).toBe(code);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('reprorom:'));
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(line);
    expect(r.stderr).toMatch(/^ {2}→ /m);
    expectNoStack(r.stderr);
  };
  // check -w WS prints located problems directly (no "reprorom:" prefix): one line, exit 2.
  const expectCheckRefuses = (r: { exitCode: number; stdout: string; stderr: string }, line: RegExp) => {
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).toMatch(new RegExp(`boards/${name}\\.yaml:5:10: ${line.source}`));
    expectNoStack(r.stderr);
  };

  beforeAll(async () => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
    ws = await copyWorkspace('rr-url-');
    tmp = await mkdtemp(join(tmpdir(), 'rr-url-tmp-'));
  });
  afterAll(async () => {
    server?.close();
    await Promise.all([ws, tmp].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('file:///etc/shadow with a wrong sha256: refused by check and build at FILE:LINE:COL, its sha256 never printed', async () => {
    const real = sha256(await readFile('/etc/shadow'));
    await withInput('file:///etc/shadow');
    const outside = /url file:\/\/\/etc\/shadow names a file outside the workspace/;
    const c = await runCli(['check', '-w', ws], QUICK);
    expectCheckRefuses(c, outside);
    const b = await runCli(['build', name, '-w', ws], QUICK);
    expectOneLine(b, 2, located(outside));
    expect(c.stdout + c.stderr + b.stdout + b.stderr).not.toContain(real);
    expect(await containersOf(name)).toEqual([]);
  });

  it('an outside path that does not exist gets the same answer as one that does (existence is not told)', async () => {
    await withInput('file:///etc/no-such-file-here');
    const c = await runCli(['check', '-w', ws], QUICK);
    expectCheckRefuses(c, /url file:\/\/\/etc\/no-such-file-here names a file outside the workspace/);
    expect(c.stdout + c.stderr).not.toMatch(/ENOENT|does not exist|not found/);
  });

  it.each([
    ['file:///dev/zero', /url file:\/\/\/dev\/zero names a file outside the workspace/],
    ['file:///tmp', /url file:\/\/\/tmp names a file outside the workspace/],
    [
      'file://evil.example/etc/passwd',
      /url file:\/\/evil\.example\/etc\/passwd names the host evil\.example/,
    ],
    ['file:///tmp/a%2fb', /url file:\/\/\/tmp\/a%2fb encodes a "\/"/],
  ])(
    'url input %s: check refuses it, located, exit 2 (no internal error, nothing read)',
    async (url, line) => {
      await withInput(url);
      expectCheckRefuses(await runCli(['check', '-w', ws], QUICK), line);
    },
  );

  it('a link inside the workspace to /dev/zero: check refuses it as leading outside', async () => {
    await symlink('/dev/zero', join(ws, 'zero.bin'));
    await withInput(pathToFileURL(join(ws, 'zero.bin')).href);
    expectCheckRefuses(
      await runCli(['check', '-w', ws], QUICK),
      /url \S+zero\.bin leads outside the workspace through a symbolic link/,
    );
    await rm(join(ws, 'zero.bin'));
  });

  it.each([
    ['a FIFO', 'fifo.bin', /cannot read \S+fifo\.bin: it is a named pipe, expected a regular file/],
    ['a folder', 'folder.bin', /cannot read \S+folder\.bin: it is a folder, expected a regular file/],
  ] as const)(
    'a url input naming %s inside the workspace: build exits 2 at once naming it; no container, nothing cached',
    async (_what, file, line) => {
      const path = join(ws, file);
      if (file === 'fifo.bin') execFileSync('mkfifo', [path]);
      else await mkdir(path);
      await withInput(pathToFileURL(path).href);
      const started = Date.now();
      const r = await runCli(['build', name, '-w', ws], QUICK);
      expectOneLine(r, 2, line);
      expect(Date.now() - started).toBeLessThan(50_000);
      expect(await containersOf(name)).toEqual([]);
      expect(existsSync(join(cacheDir(), 'inputs', WRONG))).toBe(false);
      await rm(path, { recursive: true, force: true });
    },
  );

  it('an endless http download stops at REPROROM_MAX_DOWNLOAD_BYTES: exit 2 naming the cap, nothing left in the cache', async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024);
      const more = () => {
        while (res.write(chunk)) {
          /* until the buffer is full */
        }
      };
      res.on('drain', more);
      res.on('error', () => undefined);
      more();
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await withInput(`http://127.0.0.1:${port}/zero`);
    const r = await runCli(['build', name, '-w', ws], {
      ...QUICK,
      env: { REPROROM_MAX_DOWNLOAD_BYTES: String(1024 * 1024) },
    });
    expectOneLine(
      r,
      2,
      /http:\/\/127\.0\.0\.1:\d+\/zero sent more than 1 MiB, the most a download may have; stopped/,
    );
    // Neither the file nor a temporary part of it is left in the cache.
    const inputs = await readdir(join(cacheDir(), 'inputs')).catch(() => [] as string[]);
    expect(inputs.filter((n) => n.includes(WRONG))).toEqual([]);
    server.close();
    server = undefined;
  });

  it.each([
    ['a file', (f: string) => f],
    ['below a file', (f: string) => join(f, 'below')],
  ] as const)(
    'REPROROM_CACHE %s: exit 3, one line naming the cache folder and REPROROM_CACHE (was ENOTDIR, exit 4)',
    async (_what, where) => {
      const file = join(tmp, `afile-${Date.now()}`);
      await writeFile(file, 'not a folder\n');
      await withInput(pathToFileURL(join(ws, 'README-in.bin')).href);
      await writeFile(join(ws, 'README-in.bin'), 'input\n');
      const cache = where(file);
      const r = await runCli(['build', name, '-w', ws], { ...QUICK, env: { REPROROM_CACHE: cache } });
      expectOneLine(
        r,
        3,
        /^reprorom: cannot create the cache folder \(.*\): a part of the path is a file, not a folder$/,
      );
      expect(r.stderr).toContain(
        `point REPROROM_CACHE at a folder reprorom may create and write (the cache is now ${cache})`,
      );
    },
  );

  // A tmpfs of 64 KiB, read-only or filled up, holds the cache (mounting needs root, as CI runs).
  it.skipIf(process.getuid?.() !== 0 && !inCi).each([
    ['read-only', 'ro,size=64k', /^reprorom: read-only file system \(.*\)$/, 'the cache must be writable'],
    ['full', 'size=64k', /^reprorom: no space left on the device/, 'free some space in the cache'],
  ] as const)(
    'REPROROM_CACHE on a %s file system: exit 3, the cause named (not "the path cannot be created"), the hint names the cache and REPROROM_CACHE',
    async (_what, options, line, hint) => {
      const cache = await mkdtemp(join(tmp, 'cache-fs-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', cache]);
      try {
        if (!options.startsWith('ro')) {
          execFileSync('sh', ['-c', `dd if=/dev/zero of=${cache}/fill bs=4k count=64 2>/dev/null || true`]);
        }
        await writeFile(join(ws, 'README-in.bin'), 'input\n');
        await withInput(pathToFileURL(join(ws, 'README-in.bin')).href);
        const r = await runCli(['build', name, '-w', ws], { ...QUICK, env: { REPROROM_CACHE: cache } });
        expectOneLine(r, 3, line);
        expect(r.stderr).toContain(hint);
        expect(r.stderr).toContain(`point REPROROM_CACHE at another folder (the cache is ${cache})`);
        expect(r.stderr).not.toContain('move the state folder');
      } finally {
        execFileSync('umount', [cache]);
      }
    },
  );

  it('a file: URL inside the workspace still works, with the right sha256', async () => {
    const file = join(ws, 'payload.bin');
    await writeFile(file, 'payload\n');
    await withInput(pathToFileURL(file).href, sha256('payload\n'));
    const r = await runCli(['build', name, '-w', ws], QUICK);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(boardFile())).toBe(true);
  });
});
