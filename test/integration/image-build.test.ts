/**
 * Issue: pinned environment → deterministic image. Everything here runs the real
 * CLI against the real nix and Docker engine.
 */
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { writeSyntheticFlake } from '../helpers/syntheticFlake.js';
import { copyWorkspace } from '../helpers/workspace.js';

const engine = await probeEngine();
const nix = await probeNix();
const skip = skipUnlessReal(engine) || skipUnlessReal(nix);

/** Run the CLI under a given umask, cwd and environment (umask needs a shell). */
async function cliUnder(args: string[], o: { cwd: string; umask: string; env: Record<string, string> }) {
  const r = await execa(
    'sh',
    ['-c', `umask ${o.umask}; exec "$0" "$@"`, process.execPath, join(repoRoot, 'bin/reprorom.js'), ...args],
    {
      cwd: o.cwd,
      env: { NO_COLOR: '1', ...o.env },
      reject: false,
      stdin: 'ignore',
    },
  );
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
}

/** Count occurrences of any needle in a large file, streaming (chunks overlap by the longest needle). */
async function findInFile(file: string, needles: string[]): Promise<string[]> {
  const bufs = needles.map((n) => Buffer.from(n));
  const overlap = Math.max(...bufs.map((b) => b.length));
  const found = new Set<string>();
  let tail = Buffer.alloc(0);
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) {
    const buf = Buffer.concat([tail, chunk as Buffer]);
    bufs.forEach((b, i) => {
      if (buf.includes(b)) found.add(needles[i]!);
    });
    tail = buf.subarray(Math.max(0, buf.length - overlap));
  }
  return [...found];
}

describe.skipIf(skip)('image build (real nix + engine)', () => {
  beforeAll(() => {
    if (inCi) {
      requireReal(engine);
      requireReal(nix);
    }
  });

  it('gives the same image ID and a byte-identical docker-archive from two folders, TMPDIRs, HOMEs, umasks and times', async () => {
    const builds = [];
    for (const [i, umask] of ['0022', '0077'].entries()) {
      const ws = await copyWorkspace(`rr-img-${i}-`);
      const tmp = await mkdtemp(join(tmpdir(), `rr-tmp-${i}-`));
      const home = await mkdtemp(join(tmpdir(), `rr-home-${i}-`));
      const cache = await mkdtemp(join(tmpdir(), `rr-cache-${i}-`));
      const out = join(ws, 'firmware.tar');
      const oci = join(ws, 'firmware-oci');
      if (i === 1) await new Promise((r) => setTimeout(r, 1100)); // a different second on the clock
      const r = await cliUnder(
        ['image', 'build', 'firmware', '-w', '.', '--out', out, '--oci', oci, '--json'],
        {
          cwd: ws,
          umask,
          env: { TMPDIR: tmp, HOME: home, REPROROM_CACHE: cache, TZ: i === 0 ? 'UTC' : 'Pacific/Kiritimati' },
        },
      );
      expect(r.exitCode, r.stderr).toBe(0);
      const json = JSON.parse(r.stdout) as { id: string; layers: number; cached: boolean };
      expect(json.cached).toBe(false);
      builds.push({ ws, tmp, home, out, oci, ...json });
    }
    const [a, b] = builds as [(typeof builds)[0], (typeof builds)[0]];
    expect(a.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.id).toBe(a.id);
    const [sumA, sumB] = await Promise.all(
      [a.out, b.out].map(async (f) => (await execa('sha256sum', [f])).stdout.split(' ')[0]),
    );
    expect(sumB).toBe(sumA);

    // No host path of either build leaks into the bytes of the image.
    const leaks = await findInFile(a.out, [
      a.ws,
      b.ws,
      a.tmp,
      b.tmp,
      a.home,
      b.home,
      repoRoot.replace(/\/$/, ''),
    ]);
    expect(leaks).toEqual([]);

    // skopeo and umoci read the OCI layout and agree with reprorom.
    const raw = JSON.parse((await execa('skopeo', ['inspect', '--raw', `oci:${a.oci}:firmware`])).stdout) as {
      config: { digest: string };
    };
    expect(raw.config.digest).toBe(a.id);
    const index = JSON.parse(await readFile(join(a.oci, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string }>;
    };
    const umoci = await execa('umoci', ['stat', '--image', `${a.oci}:firmware`, '--json']);
    expect(umoci.exitCode).toBe(0);
    const skopeoManifestDigest = (
      await execa('skopeo', [
        'manifest-digest',
        join(a.oci, 'blobs/sha256', index.manifests[0]!.digest.slice(7)),
      ])
    ).stdout;
    expect(skopeoManifestDigest).toBe(index.manifests[0]!.digest);
    const umociLs = await execa('umoci', ['ls', '--layout', a.oci]);
    expect(umociLs.stdout.split('\n')).toContain('firmware');

    // docker load of the archive gives the same ID.
    await execa('docker', ['rmi', '-f', a.id]).catch(() => undefined);
    const loaded = await execa('docker', ['load', '-i', a.out]);
    expect(loaded.stdout).toContain(a.id.slice(7, 19));
    expect((await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', a.id])).stdout).toBe(a.id);
  });

  it('runs gcc without network and compiles and runs a C program', async () => {
    const r = await runCli(['image', 'build', 'firmware', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const { id } = JSON.parse(r.stdout) as { id: string };
    const version = await execa('docker', ['run', '--rm', '--network', 'none', id, 'gcc', '--version']);
    expect(version.stdout).toMatch(/^gcc \(Debian 12/);
    const dir = await mkdtemp(join(tmpdir(), 'rr-c-'));
    await chmod(dir, 0o755); // the image's build user (uid 1000) must read it
    await writeFile(
      join(dir, 'hello.c'),
      '#include <stdio.h>\nint main(void){printf("sum=%d\\n", 40 + 2);return 0;}\n',
      { mode: 0o644 },
    );
    const run = await execa('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${dir}:/src:ro`,
      id,
      'sh',
      '-c',
      'gcc -O2 -o /tmp/hello /src/hello.c && /tmp/hello',
    ]);
    expect(run.stdout).toBe('sum=42');
  });

  it('answers an unchanged image from the cache', async () => {
    const first = await runCli(['image', 'build', 'firmware', '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    const second = await runCli(['image', 'build', 'firmware', '--json']);
    expect(second.exitCode, second.stderr).toBe(0);
    const a = JSON.parse(first.stdout) as { id: string };
    const b = JSON.parse(second.stdout) as { id: string; cached: boolean };
    expect(b).toMatchObject({ id: a.id, cached: true });
  });

  it('changing one package changes only the layer holding that package', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'rr-layers-'));
    const cache = await mkdtemp(join(tmpdir(), 'rr-layers-cache-'));
    const digestsFor = async (bump: string) => {
      await writeSyntheticFlake(join(ws, 'pins/synth'), { packages: 12, bump: { index: 7, salt: bump } });
      await writeFile(
        join(ws, 'pins/synth.yaml'),
        'flake: path:./pins/synth\npackageSet: packages\nnarHash: sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n',
      );
      await mkdir(join(ws, 'images'), { recursive: true });
      const packages = ['shell', ...Array.from({ length: 12 }, (_, i) => `p${i}`)];
      await writeFile(join(ws, 'images/synth.yaml'), `pin: synth\npackages: [${packages.join(', ')}]\n`);
      const lock = await runCli(['pin', 'lock', 'synth', '-w', ws]);
      expect(lock.exitCode, lock.stderr).toBe(0);
      const r = await runCli(
        ['image', 'build', 'synth', '-w', ws, '--no-load', '--oci', join(ws, `oci-${bump}`), '--json'],
        {
          env: { REPROROM_CACHE: cache },
        },
      );
      expect(r.exitCode, r.stderr).toBe(0);
      const index = JSON.parse(await readFile(join(ws, `oci-${bump}/index.json`), 'utf8')) as {
        manifests: Array<{ digest: string }>;
      };
      const manifest = JSON.parse(
        await readFile(join(ws, `oci-${bump}/blobs/sha256`, index.manifests[0]!.digest.slice(7)), 'utf8'),
      ) as { layers: Array<{ digest: string }> };
      return manifest.layers.map((l) => l.digest);
    };
    const before = await digestsFor('v1');
    const after = await digestsFor('v2');
    expect(before.length).toBe(after.length);
    const changed = after.filter((d) => !before.includes(d));
    // p7 is a leaf: its own layer is the only one that changes (root layer and every other package stay).
    expect(changed).toHaveLength(1);
    expect(before.length).toBeGreaterThan(10);
  });
});
