/**
 * The nix adapter against the real nix (offline): a tiny local flake, written to a temp
 * folder, is evaluated, built and hashed; its narHash depends on content only, not on
 * the folder it sits in. Under CI a missing nix fails (requireReal); elsewhere skipped.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFlake, closure, flakeMetadata, nix } from '../../src/nix/nix.js';
import { ImageBuildError } from '../../src/util/errors.js';
import { probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';

const probe = await probeNix();
// Outside CI with no nix: skipped (reason in probe.reason). Under CI: requireReal fails the suite.
const skip = skipUnlessReal(probe);

const system = `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux`;

/** The builder reads a file from the flake source, so the output proves the source reached the store. */
function flakeNix(): string {
  return `{
  outputs = { self }: {
    answer = 6 * 7;
    packages.${system}.default = derivation {
      name = "reprorom-nix-test";
      system = "${system}";
      builder = "/bin/sh";
      args = [ "-c" "read msg < \${./msg.txt}; echo \\"built: $msg\\" > $out" ];
    };
  };
}
`;
}

/** The lock of a flake without inputs; written up front so no command changes the folder. */
const FLAKE_LOCK = '{\n  "nodes": {\n    "root": {}\n  },\n  "root": "root",\n  "version": 7\n}\n';

async function writeFlake(dir: string, msg: string): Promise<void> {
  await writeFile(join(dir, 'flake.nix'), flakeNix());
  await writeFile(join(dir, 'flake.lock'), FLAKE_LOCK);
  await writeFile(join(dir, 'msg.txt'), `${msg}\n`);
}

describe.skipIf(skip)('nix adapter (real nix, offline)', () => {
  const dirs: string[] = [];
  let flakeDir: string;
  const tempDir = async (prefix: string) => {
    const d = await mkdtemp(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };

  beforeAll(async () => {
    requireReal(probe);
    flakeDir = await tempDir('rr-flake-a-');
    await writeFlake(flakeDir, 'hello from a pinned flake');
  });

  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('evaluates an attribute of a local flake', async () => {
    expect(await nix(['eval', '--json', `path:${flakeDir}#answer`])).toBe('42');
  });

  it('builds the flake and the output holds what the builder wrote from the source', async () => {
    const [out, ...rest] = await buildFlake([`path:${flakeDir}#default`]);
    expect(rest).toEqual([]);
    expect(out).toMatch(/^\/nix\/store\/[a-z0-9]{32}-reprorom-nix-test$/);
    expect(await readFile(out as string, 'utf8')).toBe('built: hello from a pinned flake\n');

    const info = await closure([out as string]);
    expect(info.map((p) => p.path)).toEqual([out]);
    expect(info[0]?.references).toEqual([]);
    // The store's recorded hash is the NAR hash of the bytes we just read.
    expect(info[0]?.narHash).toMatch(/^sha256[-:]/);
    expect(info[0]?.narHash).toBe(await nix(['hash', 'path', '--type', 'sha256', out as string]));
    expect(info[0]?.narSize).toBeGreaterThan(0);
    // registrationTime never leaves the adapter (it would make images vary).
    expect(Object.keys(info[0] ?? {}).sort()).toEqual(['narHash', 'narSize', 'path', 'references']);
  });

  it('gives the same narHash (and output) when the flake is copied to another folder', async () => {
    const copy = join(await tempDir('rr-flake-b-'), 'elsewhere');
    await cp(flakeDir, copy, { recursive: true });
    const a = await flakeMetadata(`path:${flakeDir}`);
    const b = await flakeMetadata(`path:${copy}`);
    expect(a.locked.narHash).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);
    expect(b.locked.narHash).toBe(a.locked.narHash);
    expect(await buildFlake([`path:${copy}#default`])).toEqual(
      await buildFlake([`path:${flakeDir}#default`]),
    );
    // Asking twice changes nothing either.
    expect((await flakeMetadata(`path:${flakeDir}`)).locked.narHash).toBe(a.locked.narHash);
  });

  it('gives a different narHash and output when one byte of the source changes', async () => {
    const other = await tempDir('rr-flake-c-');
    await writeFlake(other, 'hello from a pinned flakE');
    const a = await flakeMetadata(`path:${flakeDir}`);
    const c = await flakeMetadata(`path:${other}`);
    expect(c.locked.narHash).not.toBe(a.locked.narHash);
    const [outC] = await buildFlake([`path:${other}#default`]);
    expect(await readFile(outC as string, 'utf8')).toBe('built: hello from a pinned flakE\n');
  });

  it('turns a failing build into ImageBuildError carrying nix’s message', async () => {
    const bad = await tempDir('rr-flake-bad-');
    await writeFile(join(bad, 'flake.lock'), FLAKE_LOCK);
    await writeFile(
      join(bad, 'flake.nix'),
      `{ outputs = { self }: { packages.${system}.default = derivation { name = "reprorom-fails"; system = "${system}"; builder = "/bin/sh"; args = [ "-c" "echo reprorom-broken-on-purpose >&2; exit 1" ]; }; }; }\n`,
    );
    const err = await buildFlake([`path:${bad}#default`]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageBuildError);
    expect((err as Error).message).toMatch(/nix build failed/);
  });
});
