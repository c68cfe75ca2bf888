/**
 * The engine adapter against the real Docker engine: a scratch busybox image imported
 * and loaded through the adapter, hermetic runs (no network, no caps, non-root), copy
 * in/out, and cleanup — no container labelled `reprorom` survives, not even an aborted one.
 * Under CI a missing engine fails (requireReal); elsewhere the tests are skipped.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEngine } from '../../src/engine/docker.js';
import type { Engine, RunSpec } from '../../src/engine/port.js';
import { BuildFailedError, EngineUnavailableError, ImageBuildError } from '../../src/util/errors.js';
import { probeEngine, requireReal, skipUnlessReal } from '../helpers/real.js';
import { busyboxDockerArchive, busyboxRootfsTar, readTarFiles, singleFileTar } from '../helpers/scratch.js';

const probe = await probeEngine();
// Outside CI with no engine: skipped (reason in probe.reason). Under CI: requireReal fails the suite.
const skip = skipUnlessReal(probe);

/** Labels this file's containers, so concurrent test files on the same engine do not confuse the leftover checks. */
const testLabel = `reprorom.test=${randomUUID()}`;
const [labelKey, labelValue] = testLabel.split('=') as [string, string];
const IMAGE = `reprorom-test/busybox:${labelValue.slice(0, 8)}`;

/** Leftovers as the docker CLI sees them (independent of the adapter under test). */
async function leftovers(extraLabel = testLabel): Promise<string[]> {
  const r = await execa('docker', [
    'ps',
    '-a',
    '-q',
    '--filter',
    'label=reprorom',
    '--filter',
    `label=${extraLabel}`,
  ]);
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

describe.skipIf(skip)('docker engine adapter (real engine)', () => {
  let engine: Engine;
  let imageId: string;
  const loadedIds: string[] = [];

  async function run(
    spec: Omit<RunSpec, 'image'>,
  ): Promise<{ exitCode: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const r = await engine.runContainer({
      image: imageId,
      labels: { [labelKey]: labelValue },
      onStdoutLine: (l) => out.push(l),
      onStderrLine: (l) => err.push(l),
      ...spec,
    });
    return { exitCode: r.exitCode, out, err };
  }

  beforeAll(async () => {
    requireReal(probe);
    engine = connectEngine();
    imageId = await engine.importRootfs(Readable.from(await busyboxRootfsTar()), IMAGE);
  });

  afterAll(async () => {
    if (!engine) return;
    await engine.removeLabelled(testLabel);
    await engine.removeImage(IMAGE, { force: true });
    for (const id of loadedIds) await engine.removeImage(id, { force: true });
  });

  it('reports the server and API version', async () => {
    const v = await engine.version();
    expect(v.apiVersion).toMatch(/^1\.\d+$/);
    expect(v.version).toMatch(/^\d+\.\d+/);
    await expect(engine.ping()).resolves.toBeUndefined();
  });

  it('imports a rootfs tar and inspects the image by ID and by tag', async () => {
    expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    const byTag = await engine.inspectImage(IMAGE);
    expect(byTag?.id).toBe(imageId);
    expect(byTag?.repoTags).toContain(IMAGE);
    expect(await engine.inspectImage('reprorom-test/does-not-exist:nope')).toBeUndefined();
  });

  it('loads a docker-archive and returns the ID the config hashes to', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-engine-'));
    try {
      const { tar, expectedId } = await busyboxDockerArchive({ env: ['PATH=/bin', `MARK=${labelValue}`] });
      await writeFile(join(dir, 'image.tar'), tar);
      const id = await engine.loadImage(join(dir, 'image.tar'));
      loadedIds.push(id);
      expect(id).toBe(expectedId);
      const info = await engine.inspectImage(id);
      expect(info?.env).toContain(`MARK=${labelValue}`);
      expect(info?.cmd).toEqual(['/bin/busybox', 'sh']);
      expect(info?.workingDir).toBe('/work');

      // Tagging and removing go through the adapter too.
      const tag = `reprorom-test/loaded:${labelValue.slice(0, 8)}`;
      await engine.tagImage(id, tag);
      expect((await engine.inspectImage(tag))?.id).toBe(id);
      expect(await engine.removeImage(tag)).toBe(true);
      expect(await engine.removeImage(tag)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails loudly (ImageBuildError) on an archive the engine rejects', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-engine-'));
    try {
      await writeFile(
        join(dir, 'broken.tar'),
        await singleFileTar('manifest.json', '[{"Config":"missing.json","Layers":[]}]'),
      );
      await expect(engine.loadImage(join(dir, 'broken.tar'))).rejects.toBeInstanceOf(ImageBuildError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs a command, captures stdout and stderr separately, and returns the exit code', async () => {
    const hello = await run({ cmd: ['/bin/busybox', 'echo', 'hello'] });
    expect(hello.exitCode).toBe(0);
    expect(hello.out).toEqual(['hello']);
    expect(hello.err).toEqual([]);

    const mixed = await run({
      cmd: ['/bin/busybox', 'sh', '-c', 'echo out1; echo err1 >&2; echo out2; exit 3'],
    });
    expect(mixed.exitCode).toBe(3);
    expect(mixed.out).toEqual(['out1', 'out2']);
    expect(mixed.err).toEqual(['err1']);
    expect(await leftovers()).toEqual([]);
  });

  it('isolates the container: no network but lo, no capabilities, no new privileges, non-root user', async () => {
    const net = await run({ cmd: ['/bin/busybox', 'ls', '/sys/class/net'] });
    expect(net.exitCode).toBe(0);
    expect(net.out.join(' ').split(/\s+/).filter(Boolean)).toEqual(['lo']);

    const who = await run({
      cmd: [
        '/bin/busybox',
        'sh',
        '-c',
        '/bin/busybox id -u; /bin/busybox id -g; /bin/busybox grep -E "^(CapEff|NoNewPrivs):" /proc/self/status',
      ],
      user: '65534:65534',
    });
    expect(who.exitCode).toBe(0);
    expect(who.out[0]).toBe('65534');
    expect(who.out[1]).toBe('65534');
    expect(who.out).toContainEqual(expect.stringMatching(/^CapEff:\s+0+$/));
    expect(who.out).toContainEqual(expect.stringMatching(/^NoNewPrivs:\s+1$/));
  });

  it('applies env (sorted), hostname, working dir, tmpfs, limits and read-only / read-write mounts', async () => {
    const ro = await mkdtemp(join(tmpdir(), 'rr-ro-'));
    const rw = await mkdtemp(join(tmpdir(), 'rr-rw-'));
    try {
      await writeFile(join(ro, 'in.txt'), 'from host\n');
      const r = await run({
        cmd: [
          '/bin/busybox',
          'sh',
          '-c',
          [
            'echo "$ZED $ALPHA"',
            '/bin/busybox hostname',
            '/bin/busybox pwd',
            '/bin/busybox cat /src/in.txt',
            'echo written > /dst/out.txt',
            'if (echo x > /src/nope) 2>/dev/null; then echo ro-writable; else echo ro-refused; fi',
            '/bin/busybox grep " /scratch " /proc/mounts | /bin/busybox cut -d" " -f3',
            '/bin/busybox cat /sys/fs/cgroup/pids.max 2>/dev/null || /bin/busybox cat /sys/fs/cgroup/pids/pids.max',
          ].join('; '),
        ],
        env: { ZED: 'z', ALPHA: 'a' },
        hostname: 'reprorom',
        workingDir: '/work',
        mounts: [
          { source: ro, target: '/src', readOnly: true },
          { source: rw, target: '/dst', readOnly: false },
        ],
        tmpfs: { '/scratch': 'rw,size=16m' },
        memoryBytes: 256 * 1024 * 1024,
        pidsLimit: 64,
      });
      expect(r.err).toEqual([]);
      expect(r.exitCode).toBe(0);
      expect(r.out).toEqual(['z a', 'reprorom', '/work', 'from host', 'ro-refused', 'tmpfs', '64']);
      expect(await readFile(join(rw, 'out.txt'), 'utf8')).toBe('written\n');
    } finally {
      await rm(ro, { recursive: true, force: true });
      await rm(rw, { recursive: true, force: true });
    }
  });

  it('copies files in before start and out after exit, then still removes the container', async () => {
    let copied = new Map<string, string>();
    let seenId = '';
    const hooks: string[] = [];
    const r = await run({
      cmd: ['/bin/busybox', 'sh', '-c', '/bin/busybox tr a-z A-Z < /work/input.txt > /out/result.txt'],
      beforeStart: async (id) => {
        hooks.push('beforeStart');
        seenId = id;
        await engine.putArchive(id, '/work', await singleFileTar('input.txt', 'shout\n'));
      },
      afterExit: async (id, code) => {
        hooks.push('afterExit');
        expect(code).toBe(0);
        copied = await readTarFiles(await engine.getArchive(id, '/out/result.txt'));
      },
    });
    expect(r.exitCode).toBe(0);
    expect(hooks).toEqual(['beforeStart', 'afterExit']);
    expect(copied.get('result.txt')).toBe('SHOUT\n');
    // The container is gone even though hooks ran against it.
    const gone = await execa('docker', ['inspect', seenId], { reject: false });
    expect(gone.exitCode).not.toBe(0);
  });

  it('kills and removes the container when the AbortSignal fires during `sleep 30`', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const runId = randomUUID();
    const pending = run({
      cmd: ['/bin/busybox', 'sh', '-c', 'echo started; exec /bin/busybox sleep 30'],
      runId,
      signal: ac.signal,
      onStdoutLine: (l) => {
        if (l === 'started') ac.abort(new Error('test abort'));
      },
    });
    await expect(pending).rejects.toThrow('test abort');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await leftovers(`reprorom.run=${runId}`)).toEqual([]);
    expect(await leftovers()).toEqual([]);
  });

  it('kills a container that exceeds its timeout with BuildFailedError, and removes it', async () => {
    const started = Date.now();
    const pending = run({ cmd: ['/bin/busybox', 'sleep', '30'], timeoutMs: 1000 });
    await expect(pending).rejects.toBeInstanceOf(BuildFailedError);
    await expect(pending).rejects.toThrow(/timed out/);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await leftovers()).toEqual([]);
  });

  it('rejects an already-aborted signal without creating anything', async () => {
    const ac = new AbortController();
    ac.abort(new Error('early'));
    await expect(run({ cmd: ['/bin/busybox', 'true'], signal: ac.signal })).rejects.toThrow('early');
    expect(await leftovers()).toEqual([]);
  });

  it('finds and removes labelled leftovers (a created, never-started container)', async () => {
    const id = await engine.createContainer({
      image: imageId,
      cmd: ['/bin/busybox', 'true'],
      labels: { [labelKey]: labelValue },
    });
    expect(await engine.listLabelled(testLabel)).toEqual([id]);
    expect(await leftovers()).toEqual([id.slice(0, 12)]);
    expect(await engine.removeLabelled(testLabel)).toBe(1);
    expect(await leftovers()).toEqual([]);
  });
});

describe('engine adapter without an engine', () => {
  it('maps a missing socket to EngineUnavailableError with the start command as hint', async () => {
    const saved = process.env['DOCKER_HOST'];
    process.env['DOCKER_HOST'] = 'unix:///nonexistent.sock';
    try {
      const engine = connectEngine({ timeoutMs: 2000 });
      expect(engine.endpoint).toBe('unix:///nonexistent.sock');
      const err = await engine.version().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineUnavailableError);
      expect((err as EngineUnavailableError).message).toContain('unix:///nonexistent.sock');
      expect((err as EngineUnavailableError).hint).toContain('dockerd > /var/log/dockerd.log 2>&1 &');
      expect((err as EngineUnavailableError).exitCode).toBe(3);
    } finally {
      if (saved === undefined) delete process.env['DOCKER_HOST'];
      else process.env['DOCKER_HOST'] = saved;
    }
  });

  it('maps an unreachable tcp:// engine to EngineUnavailableError within the timeout', async () => {
    const saved = process.env['DOCKER_HOST'];
    // 192.0.2.0/24 is TEST-NET-1: never routed, so the connect hangs or fails — both must end in time.
    process.env['DOCKER_HOST'] = 'tcp://192.0.2.1:2375';
    try {
      const started = Date.now();
      await expect(connectEngine({ timeoutMs: 1500 }).ping()).rejects.toBeInstanceOf(EngineUnavailableError);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      if (saved === undefined) delete process.env['DOCKER_HOST'];
      else process.env['DOCKER_HOST'] = saved;
    }
  });
});
