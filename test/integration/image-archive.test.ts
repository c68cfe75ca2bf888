/**
 * The image writer against real tools: Docker 20.10 loads the docker-archive
 * (and reports our config digest as the image ID) and runs it; skopeo and umoci
 * read the OCI layout and agree with our manifest and config digests. The
 * "store path" is a temp folder holding Debian's static busybox, mapped to
 * /nix/store/…-busybox, so no real nix store is needed.
 * Outside CI a missing engine or tool skips with the reason; under CI=true it fails.
 */

import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootLayerEntries } from '../../src/image/rootLayer.js';
import { type WrittenImage, writeImage } from '../../src/image/writeImage.js';
import { inCi, probeEngine, type RealProbe, requireReal, skipUnlessReal } from '../helpers/real.js';
import { BUSYBOX } from '../helpers/scratch.js';

async function probeTools(): Promise<RealProbe> {
  try {
    await execa('skopeo', ['--version']);
    await execa('umoci', ['--version']);
    await execa('docker', ['version', '--format', '{{.Server.Version}}']);
    await readFile(BUSYBOX);
    return { what: 'docker CLI, skopeo, umoci and busybox-static', ok: true, reason: '' };
  } catch (err) {
    return {
      what: 'docker CLI, skopeo, umoci and busybox-static (apt-get install -y skopeo umoci busybox-static)',
      ok: false,
      reason: err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err),
    };
  }
}

const engine = await probeEngine();
const tools = await probeTools();
// Under CI=true these never skip: requireReal in beforeAll fails the suite instead.
const skip = skipUnlessReal(engine) || skipUnlessReal(tools);
const HASH = '0123456789abcdfghijklmnpqrsvwxyz';
const BB = `/nix/store/${HASH}-busybox-static`;

describe.skipIf(skip)(
  `image archive with real tools (${skip ? `skipped outside CI: ${engine.reason} ${tools.reason}` : 'engine present'})`,
  () => {
    let root: string;
    let img: WrittenImage;
    let tag: string;

    beforeAll(async () => {
      requireReal(engine);
      requireReal(tools);
      root = await mkdtemp(join(tmpdir(), 'rr-image-archive-'));
      const store = join(root, 'store', 'busybox');
      await mkdir(join(store, 'bin'), { recursive: true });
      await copyFile(BUSYBOX, join(store, 'bin', 'busybox'));
      img = await writeImage(
        {
          layers: [
            { kind: 'trees', trees: [{ hostPath: store, imagePath: BB }] },
            {
              kind: 'entries',
              entries: rootLayerEntries({
                user: { name: 'build', uid: 1000 },
                shell: `${BB}/bin/busybox`,
                env: `${BB}/bin/busybox`,
              }),
            },
          ],
          architecture: 'amd64',
          os: 'linux',
          config: {
            env: [`PATH=${BB}/bin:/bin`],
            cmd: ['/bin/sh'],
            workingDir: '/build',
            user: '1000:1000',
            labels: { 'org.reprorom.test': 'image-archive' },
          },
        },
        {
          ociDir: join(root, 'oci'),
          dockerArchive: join(root, 'image.tar'),
          repoTag: (id) => `reprorom/image-archive-test:${id.slice(7, 19)}`,
        },
      );
      tag = img.repoTag!;
      await execa('docker', ['rmi', '-f', img.id], { reject: false });
    });

    afterAll(async () => {
      if (img) await execa('docker', ['rmi', '-f', img.id], { reject: false });
      if (root) await rm(root, { recursive: true, force: true });
    });

    it('docker load accepts the archive and reports our config digest as the image ID', async () => {
      const loaded = await execa('docker', ['load', '-i', img.dockerArchive!]);
      expect(loaded.stdout).toContain(`Loaded image: ${tag}`);
      const id = (await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', tag])).stdout.trim();
      expect(id).toBe(img.id);
      const diffIds = JSON.parse(
        (await execa('docker', ['image', 'inspect', '--format', '{{json .RootFS.Layers}}', tag])).stdout,
      );
      expect(diffIds).toEqual(img.layerDigests);
    });

    it('runs busybox in the image as the build user, with /bin/sh, /usr/bin/env, /tmp and /build in place', async () => {
      const run = (args: string[]) => execa('docker', ['run', '--rm', '--network', 'none', img.id, ...args]);
      expect((await run(['busybox', 'echo', 'ok'])).stdout).toBe('ok');
      expect((await run(['/bin/sh', '-c', 'echo $(id -u):$(id -g) $(pwd)'])).stdout).toBe('1000:1000 /build');
      expect((await run(['/usr/bin/env', 'busybox', 'echo', 'env-ok'])).stdout).toBe('env-ok');
      expect(
        (
          await run(['busybox', 'stat', '-c', '%a %u %n', '/tmp', '/build', `${BB}/bin/busybox`])
        ).stdout.split('\n'),
      ).toEqual(['1777 0 /tmp', '1777 1000 /build', `555 0 ${BB}/bin/busybox`]);
      expect((await run(['busybox', 'whoami'])).stdout).toBe('build');
      // Store content is read-only even for a writable-looking user.
      await expect(run(['/bin/sh', '-c', `touch ${BB}/x`])).rejects.toThrow();
    });

    it('skopeo reads the OCI layout and agrees with our manifest and config digests', async () => {
      const raw = (await execa('skopeo', ['inspect', '--raw', `oci:${img.ociDir}`])).stdout;
      const manifest = await readFile(join(img.ociDir, 'blobs/sha256', img.manifestDigest.slice(7)), 'utf8');
      expect(raw).toBe(manifest);
      const config = (
        await execa('skopeo', ['inspect', '--config', '--raw', `oci:${img.ociDir}:${img.refName}`])
      ).stdout;
      expect(`sha256:${(await execa('sha256sum', { input: config })).stdout.split(' ')[0]}`).toBe(img.id);
      const info = JSON.parse((await execa('skopeo', ['inspect', `oci:${img.ociDir}`])).stdout);
      expect(info.Layers).toEqual(img.layerDigests);
      expect(info.Labels).toEqual({ 'org.reprorom.test': 'image-archive' });
      // The docker-archive is readable by skopeo as well.
      const fromArchive = JSON.parse(
        (await execa('skopeo', ['inspect', '--config', `docker-archive:${img.dockerArchive!}`])).stdout,
      );
      expect(fromArchive.rootfs.diff_ids).toEqual(img.layerDigests);
    });

    it('umoci lists the tag, stats the image and unpacks it from our manifest digest', async () => {
      const ls = (await execa('umoci', ['ls', '--layout', img.ociDir])).stdout.trim();
      expect(ls).toBe(img.refName);
      // Our image has no history, so `umoci stat` reads it and has nothing to list.
      const stat = JSON.parse(
        (await execa('umoci', ['stat', '--image', `${img.ociDir}:${img.refName}`, '--json'])).stdout,
      );
      expect(stat).toEqual({ history: null });
      // umoci unpacks the layers into a bundle: its umoci.json names our manifest digest,
      // its runtime config carries our config's user and working dir, its rootfs our files.
      const bundle = join(root, 'bundle');
      await execa('umoci', ['unpack', '--rootless', '--image', `${img.ociDir}:${img.refName}`, bundle]);
      const meta = JSON.parse(await readFile(join(bundle, 'umoci.json'), 'utf8'));
      expect(meta.from_descriptor_path.descriptor_walk[0].digest).toBe(img.manifestDigest);
      const runtime = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8'));
      expect(runtime.process.user).toMatchObject({ uid: 1000, gid: 1000 });
      expect(runtime.process.cwd).toBe('/build');
      expect(
        (await readFile(join(bundle, 'rootfs', BB, 'bin/busybox'))).equals(await readFile(BUSYBOX)),
      ).toBe(true);
    });

    it('is identical when written again elsewhere (ID and archive bytes)', async () => {
      const again = await mkdtemp(join(tmpdir(), 'rr-image-archive-again-'));
      try {
        const store = join(again, 'elsewhere', 'bb');
        await mkdir(join(store, 'bin'), { recursive: true });
        await copyFile(BUSYBOX, join(store, 'bin', 'busybox'));
        const second = await writeImage(
          {
            layers: [
              { kind: 'trees', trees: [{ hostPath: store, imagePath: BB }] },
              {
                kind: 'entries',
                entries: rootLayerEntries({
                  user: { name: 'build', uid: 1000 },
                  shell: `${BB}/bin/busybox`,
                  env: `${BB}/bin/busybox`,
                }),
              },
            ],
            config: {
              env: [`PATH=${BB}/bin:/bin`],
              cmd: ['/bin/sh'],
              workingDir: '/build',
              user: '1000:1000',
              labels: { 'org.reprorom.test': 'image-archive' },
            },
          },
          {
            ociDir: join(again, 'oci'),
            dockerArchive: join(again, 'image.tar'),
            repoTag: (id) => `reprorom/image-archive-test:${id.slice(7, 19)}`,
          },
        );
        expect(second.id).toBe(img.id);
        expect((await readFile(second.dockerArchive!)).equals(await readFile(img.dockerArchive!))).toBe(true);
      } finally {
        await rm(again, { recursive: true, force: true });
      }
    });
  },
);

it.runIf(inCi)('CI has the engine and tools for the image archive test', () => {
  requireReal(engine);
  requireReal(tools);
});
