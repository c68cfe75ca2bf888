/**
 * The offline package set end to end with real apt and real nix: fetch, heal a
 * corrupted cache, build the flake offline, run the built gcc and python3, use
 * lib.mkShell from another flake. Under CI=true missing tools fail instead of skipping.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFlake, flakeMetadata, NIX_OFFLINE_CONFIG, nix } from '../../src/nix/nix.js';
import { lockedDebs, parseDebLock } from '../../src/offline/debsLock.js';
import { downloadFromPool, fetchOffline } from '../../src/offline/fetch.js';
import { flatFixedPath } from '../../src/offline/storePath.js';
import { EnvironmentError } from '../../src/util/errors.js';
import { sha256File } from '../../src/util/sha256.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FLAKE = `path:${join(ROOT, 'pins/offline')}`;

function has(cmd: string): boolean {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const toolsMissing = !has('nix') || !has('apt-get');
// Outside CI a machine without nix or apt skips with this reason; under CI=true it fails.
const skip = toolsMissing && !process.env['CI'];
if (toolsMissing && process.env['CI'])
  throw new Error('CI=true but nix or apt-get is missing: the offline set cannot be tested');

const env = { NIX_CONFIG: NIX_OFFLINE_CONFIG };
let savedCache: string | undefined;

beforeAll(async () => {
  if (skip) return;
  // A cache of its own (kept between runs so repeated runs stay fast), never the user's.
  savedCache = process.env['REPROROM_CACHE'];
  process.env['REPROROM_CACHE'] = join(tmpdir(), 'reprorom-offline-test-cache');
  await fetchOffline(ROOT);
});
afterAll(() => {
  if (savedCache === undefined) delete process.env['REPROROM_CACHE'];
  else process.env['REPROROM_CACHE'] = savedCache;
});

describe.skipIf(skip)('offline package set (real apt, real nix)', () => {
  it('fetch is idempotent: a second run downloads nothing, re-verifies every hash and leaves every deb in the store', async () => {
    const started = Date.now();
    const result = await fetchOffline(ROOT);
    expect(result.downloaded).toEqual([]);
    expect(result.healed).toEqual([]);
    expect(result.seeded).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    const lock = parseDebLock(await readFile(join(ROOT, 'pins/offline/debs.lock.json'), 'utf8'));
    const paths = lockedDebs(lock).map((d) => flatFixedPath(d.sha256, d.storeName));
    const { stdout } = await execa('nix-store', ['--check-validity', '--print-invalid', ...paths]);
    expect(stdout).toBe('');
  });

  it('detects a truncated cached deb by sha256, names both hashes, and heals it by fetching again', async () => {
    const lock = parseDebLock(await readFile(join(ROOT, 'pins/offline/debs.lock.json'), 'utf8'));
    const xxd = lockedDebs(lock).find((d) => d.name === 'xxd');
    if (!xxd) throw new Error('xxd is not in the lock');
    const file = join(process.env['REPROROM_CACHE'] ?? '', 'debs', xxd.storeName);
    await truncate(file, 100);
    const bad = await sha256File(file);
    const lines: string[] = [];
    const result = await fetchOffline(ROOT, { log: (l) => lines.push(l) });
    expect(result.healed).toEqual([{ name: 'xxd', expected: xxd.sha256, actual: bad }]);
    expect(result.downloaded).toEqual(['xxd']);
    expect(lines.join('\n')).toContain(bad);
    expect(lines.join('\n')).toContain(xxd.sha256);
    expect(await sha256File(file)).toBe(xxd.sha256);
  });

  it('a locked version apt does not have fails naming the package, the version and the re-lock command', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'reprorom-offline-ws-'));
    try {
      const lock = JSON.parse(await readFile(join(ROOT, 'pins/offline/debs.lock.json'), 'utf8'));
      lock.debs.xxd = { ...lock.debs.xxd, version: '9.9.9-42', storeName: 'xxd=9.9.9-42=amd64.deb' };
      // Never from a cache an older run may have filled under this made-up name.
      await rm(join(process.env['REPROROM_CACHE'] ?? '', 'debs', 'xxd=9.9.9-42=amd64.deb'), { force: true });
      await mkdir(join(ws, 'pins/offline'), { recursive: true });
      await writeFile(join(ws, 'pins/offline/debs.lock.json'), JSON.stringify(lock));
      const err = await fetchOffline(ws).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EnvironmentError);
      expect((err as EnvironmentError).message).toContain('xxd 9.9.9-42');
      expect((err as EnvironmentError).hint).toContain('scripts/lock-offline-debs.ts');
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });

  it('the archive-pool fallback fetches the exact locked bytes of a package by its file name', async () => {
    const lock = parseDebLock(await readFile(join(ROOT, 'pins/offline/debs.lock.json'), 'utf8'));
    // A small package, so the download is quick; its locked file is the one apt lists today or an older one.
    const deb = lockedDebs(lock).find((d) => d.name === 'xxd');
    expect(deb).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'reprorom-pool-'));
    try {
      expect(await downloadFromPool(deb!, dir)).toBe(true);
      expect(await sha256File(join(dir, deb!.filename))).toBe(deb!.sha256);
      // A lock entry whose file name does not match its version is never fetched this way.
      expect(await downloadFromPool({ ...deb!, version: '9.9.9-42' }, dir)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the pin narHash in pins/offline.yaml matches the flake folder', async () => {
    const meta = await flakeMetadata(FLAKE);
    const pin = await readFile(join(ROOT, 'pins/offline.yaml'), 'utf8');
    expect(pin).toContain(`narHash: ${meta.locked.narHash}`);
  });

  let toolchain = '';
  it('builds the toolchain offline and deterministically (nix build --rebuild finds the same bytes)', async () => {
    [toolchain = ''] = await buildFlake([`${FLAKE}#toolchain`], { env });
    expect(toolchain).toMatch(/^\/nix\/store\/[a-z0-9]{32}-toolchain$/);
    await nix(['build', '--no-link', '--rebuild', `${FLAKE}#toolchain`], { env });
  });

  it('gcc from the built toolchain (its own cc1, as, ld) compiles a C program that runs on the host', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reprorom-offline-cc-'));
    try {
      await writeFile(
        join(dir, 'h.c'),
        '#include <stdio.h>\nint main(void) { printf("answer %d\\n", 6 * 7); return 0; }\n',
      );
      const only = { PATH: `${toolchain}/usr/bin` };
      const cc1 = await execa(`${toolchain}/usr/bin/gcc`, ['-print-prog-name=cc1'], {
        env: only,
        extendEnv: false,
      });
      expect(cc1.stdout.startsWith(toolchain)).toBe(true);
      await execa(`${toolchain}/usr/bin/gcc`, ['-O2', '-o', join(dir, 'h'), join(dir, 'h.c')], {
        env: only,
        extendEnv: false,
      });
      expect((await execa(join(dir, 'h'))).stdout).toBe('answer 42');
      const sh = await execa(
        `${toolchain}/usr/bin/sh`,
        ['-c', 'command -v cc make awk; make --version | head -n1'],
        { env: only, extendEnv: false },
      );
      expect(sh.stdout).toContain(`${toolchain}/usr/bin/cc`);
      expect(sh.stdout).toContain('GNU Make');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('python3 from the toolchain runs with its standard library (json, hashlib)', async () => {
    const py = await execa(
      `${toolchain}/usr/bin/python3`,
      ['-c', 'import json, hashlib; print(json.dumps(hashlib.sha256(b"").hexdigest()[:8]))'],
      {
        env: { PATH: `${toolchain}/usr/bin` },
        extendEnv: false,
      },
    );
    expect(py.stdout).toBe('"e3b0c442"');
  });

  it('the riscv64 tree cross-compiles to a RISC-V object', async () => {
    const [tree = ''] = await buildFlake([`${FLAKE}#toolchain-riscv64`], { env });
    const dir = await mkdtemp(join(tmpdir(), 'reprorom-offline-rv-'));
    try {
      await writeFile(join(dir, 'f.c'), 'int f(int x) { return x * 3; }\n');
      // On the host the loader searches the host's /usr/lib only; the cross binutils' own
      // libbfd/libopcodes live in the tree (in an image /usr is the tree, so no variable is needed).
      const only = {
        env: { PATH: `${tree}/usr/bin`, LD_LIBRARY_PATH: `${tree}/usr/lib/x86_64-linux-gnu` },
        extendEnv: false,
      };
      await execa(
        `${tree}/usr/bin/riscv64-linux-gnu-gcc`,
        ['-O2', '-ffreestanding', '-c', '-o', join(dir, 'f.o'), join(dir, 'f.c')],
        only,
      );
      const header = await execa(`${tree}/usr/bin/riscv64-linux-gnu-readelf`, ['-h', join(dir, 'f.o')], only);
      expect(header.stdout).toMatch(/Machine:\s+RISC-V/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lib.mkShell makes a devShell: print-dev-env puts the toolchain on PATH, nix develop runs gcc', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reprorom-offline-shell-'));
    try {
      await writeFile(
        join(dir, 'flake.nix'),
        `{
  inputs.offline.url = "${FLAKE}";
  outputs = { self, offline }: let s = "x86_64-linux"; in {
    devShells.\${s}.default = offline.lib.\${s}.mkShell {
      name = "t"; packages = [ offline.packages.\${s}.gcc ]; env = { GREETING = "hi"; };
    };
  };
}
`,
      );
      const json = JSON.parse(await nix(['print-dev-env', '--json', `path:${dir}`], { env })) as {
        variables: Record<string, { type: string; value: string }>;
      };
      expect(json.variables['PATH']?.value.split(':')).toContain(`${toolchain}/usr/bin`);
      expect(json.variables['PATH']?.value).not.toContain('/path-not-set');
      expect(json.variables['GREETING']).toEqual({ type: 'exported', value: 'hi' });
      const out = await nix(['develop', `path:${dir}`, '--command', 'gcc', '--version'], { env });
      expect(out).toMatch(/^gcc \(Debian 12/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
