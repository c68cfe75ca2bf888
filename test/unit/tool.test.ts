/**
 * The one runner for external tools maps the two failures every tool shares: not installed
 * (an EnvironmentError with the install hint) and failed (the caller's error with the last
 * lines of stderr). Real processes (sh), no stubs.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { toolProbe } from '../../src/doctor/probes.js';
import { DPKG_INSTALL, debSonames } from '../../src/offline/debSonames.js';
import { signFiles } from '../../src/release/sign.js';
import { openVerifier } from '../../src/release/signature.js';
import { BuildFailedError, EnvironmentError, ExitCode, UsageError } from '../../src/util/errors.js';
import { runTool, runToolResult, runToolStream, ToolMissingError } from '../../src/util/tool.js';

const install = 'install it: apt-get install -y frobnicator';

describe('runTool', () => {
  it('returns stdout without the final newline', async () => {
    expect(await runTool('sh', ['-c', 'echo hello'], { install })).toBe('hello');
  });

  it('a tool that is not installed is an EnvironmentError naming it, with the install hint', async () => {
    const err = await runTool('reprorom-no-such-tool', ['x'], { install }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as EnvironmentError).message).toBe('reprorom-no-such-tool is not installed');
    expect((err as EnvironmentError).hint).toBe(install);
    expect((err as EnvironmentError).exitCode).toBe(ExitCode.environment);
    const answer = await runToolResult('reprorom-no-such-tool', [], { install }).catch((e: unknown) => e);
    expect(answer).toBeInstanceOf(EnvironmentError);
  });

  it('a working folder that does not exist is said as such, not as a missing tool', async () => {
    const cwd = join(tmpdir(), 'reprorom-no-such-folder', 'gone');
    for (const run of [runTool, runToolResult]) {
      const err = await run('sh', ['-c', 'true'], { install, cwd }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EnvironmentError);
      expect(err).not.toBeInstanceOf(ToolMissingError);
      expect((err as Error).message).toBe(`sh could not start: its working folder ${cwd} does not exist`);
    }
  });

  it('a failed run says which tool and the last lines it wrote to stderr, as the caller’s error', async () => {
    const script = 'for i in 1 2 3 4 5 6 7 8; do echo "line $i" >&2; done; echo; exit 3';
    const err = await runTool('sh', ['-c', script], {
      install,
      tailLines: 2,
      failed: (message, cause) => new BuildFailedError(message, undefined, { cause }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildFailedError);
    expect((err as Error).message).toBe('sh -c failed: line 7\n  line 8');
    const plain = await runTool('sh', ['-c', 'exit 1'], { install }).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(EnvironmentError);
    expect((plain as Error).message).toMatch(/^sh -c failed: Command failed with exit code 1/);
  });

  it('an exit code that is an answer comes back with both streams', async () => {
    const r = await runToolResult('sh', ['-c', 'echo out; echo err >&2; exit 2'], { install });
    expect(r).toEqual({ stdout: 'out', stderr: 'err', exitCode: 2 });
  });

  it('a tool killed by its timeout, or that cannot start, has no exit code, and says why', async () => {
    const r = await runToolResult('sleep', ['5'], { install, timeoutMs: 50 });
    expect(r.exitCode).toBeUndefined();
    expect(r.killed).toBe('timed out after 50 ms');
    // A file that is there but cannot run is not "not installed": it says why it did not start.
    const dir = await mkdtemp(join(tmpdir(), 'rr-tool-'));
    await writeFile(join(dir, 'frob'), '#!/bin/sh\n', { mode: 0o644 });
    const denied = await runToolResult(join(dir, 'frob'), [], { install });
    expect(denied.exitCode).toBeUndefined();
    expect(denied.killed).toMatch(/EACCES/);
  });

  it('a streamed stdout is read while the tool runs; its failure is mapped like runTool', async () => {
    const read = (s: Readable) => s.toArray().then((c) => Buffer.concat(c as Buffer[]).length);
    expect(await runToolStream('sh', ['-c', 'head -c 300000 /dev/zero'], { install }, read)).toBe(300000);
    const failed = await runToolStream('sh', ['-c', 'echo bad >&2; exit 2'], { install }, read).catch(
      (e) => e,
    );
    expect((failed as Error).message).toBe('sh -c failed: bad');
    const missing = await runToolStream('reprorom-no-such-tool', [], { install }, read).catch((e) => e);
    expect(missing).toBeInstanceOf(ToolMissingError);
  });
});

/** Run `fn` with PATH set to `dir` only: the tools there (or none) are all the callers can find. */
async function withPath<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env['PATH'];
  process.env['PATH'] = dir;
  try {
    return await fn();
  } finally {
    process.env['PATH'] = saved;
  }
}

async function fakeTools(tools: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rr-tools-'));
  for (const [name, script] of Object.entries(tools))
    await writeFile(join(dir, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return dir;
}

describe('the callers go through the runner: one "not installed", one "failed"', () => {
  it('sign: a missing ssh-keygen is an environment error; a failing one a usage error with its stderr', async () => {
    const dir = await fakeTools({});
    const [key, file] = [join(dir, 'id_ed25519'), join(dir, 'manifest.json')];
    await writeFile(key, 'not a key\n', { mode: 0o600 });
    await writeFile(file, '{}\n');
    const missing = await withPath(dir, () => signFiles([file], key, 'ssh')).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(EnvironmentError);
    expect((missing as EnvironmentError).message).toBe('ssh-keygen is not installed');
    expect((missing as EnvironmentError).hint).toBe('install it: apt-get install -y openssh-client');
    const failing = await fakeTools({
      'ssh-keygen': '/bin/cat >/dev/null; echo \'Load key "x": invalid format\' >&2; exit 255',
    });
    const failed = await withPath(failing, () => signFiles([file], key, 'ssh')).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(UsageError);
    expect((failed as Error).message).toBe(
      `cannot sign ${file} with OpenSSH key ${key}: Load key "x": invalid format`,
    );
  });

  it('verify: a missing gpg is an environment error naming gnupg', async () => {
    const dir = await fakeTools({});
    const pub = join(dir, 'key.asc');
    await writeFile(pub, '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n');
    const missing = await withPath(dir, () => openVerifier({ key: pub })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(EnvironmentError);
    expect((missing as EnvironmentError).message).toBe('gpg is not installed');
    expect((missing as EnvironmentError).hint).toBe('install it: apt-get install -y gnupg');
  });

  it('doctor: a missing tool is "not found", a failing one "does not run" with what it said', async () => {
    const dir = await fakeTools({ qemu: 'echo "qemu: cannot open /dev/kvm" >&2; exit 1' });
    const probe = (cmd: string) => toolProbe(cmd, cmd, ['--version'], 'apt-get install -y x', 'boots ROMs');
    expect(await withPath(dir, () => probe('umoci').run())).toEqual({
      ok: false,
      detail: 'umoci not found (boots ROMs)',
      fix: 'apt-get install -y x',
    });
    expect((await withPath(dir, () => probe('qemu').run())).detail).toBe(
      'qemu does not run: qemu: cannot open /dev/kvm',
    );
  });

  it('debSonames: a missing dpkg-deb names its package; a damaged deb says what dpkg-deb said', async () => {
    const dir = await fakeTools({});
    const deb = join(dir, 'broken.deb');
    await writeFile(deb, 'not an ar archive\n');
    const missing = await withPath(dir, () => debSonames(deb)).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(EnvironmentError);
    expect((missing as EnvironmentError).message).toBe('dpkg-deb is not installed');
    expect((missing as EnvironmentError).hint).toBe(DPKG_INSTALL);
    const failed = await debSonames(deb).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(EnvironmentError);
    expect((failed as Error).message).toMatch(
      new RegExp(
        `^could not read the shared objects of ${deb}: dpkg-deb --fsys-tarfile failed: .*not a Debian format archive`,
      ),
    );
  });
});
