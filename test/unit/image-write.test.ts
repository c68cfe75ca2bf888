import { chmod, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../src/image/digest.js';
import { dockerArchiveStream, exportDockerArchive } from '../../src/image/dockerArchive.js';
import { imageConfig, MEDIA } from '../../src/image/imageConfig.js';
import { layoutIntact } from '../../src/image/readLayout.js';
import { rootLayerEntries } from '../../src/image/rootLayer.js';
import { type ImageSpec, writeImage } from '../../src/image/writeImage.js';
import { tarEntries } from '../helpers/tar.js';

const H = 'abcdfghijklmnpqrsvwxyz0123456789';

describe('root layer', () => {
  it('has /bin/sh, /usr/bin/env, /tmp 1777, /build owned by the build user and passwd/group entries', () => {
    const e = rootLayerEntries({
      user: { name: 'build', uid: 1000 },
      shell: `/nix/store/${H}-bash/bin/sh`,
      env: `/nix/store/${H}-coreutils/bin/env`,
    });
    const byName = new Map(e.map((x) => [x.name, x]));
    expect(byName.get('bin/sh')).toEqual({
      name: 'bin/sh',
      type: 'symlink',
      target: `/nix/store/${H}-bash/bin/sh`,
    });
    expect(byName.get('usr/bin/env')).toMatchObject({
      type: 'symlink',
      target: `/nix/store/${H}-coreutils/bin/env`,
    });
    expect(byName.get('tmp')).toMatchObject({ type: 'dir', mode: 0o1777 });
    expect(byName.get('build')).toMatchObject({ type: 'dir', uid: 1000, gid: 1000 });
    const text = (n: string) => {
      const x = byName.get(n);
      return x?.type === 'data' ? x.data.toString() : '';
    };
    expect(text('etc/passwd')).toMatch(/^root:x:0:0:/);
    expect(text('etc/passwd')).toContain('\nbuild:x:1000:1000:');
    expect(text('etc/group')).toContain('\nbuild:x:1000:\n');
    expect(e.map((x) => x.name)).toEqual([
      'bin',
      'bin/sh',
      'build',
      'etc',
      'etc/group',
      'etc/nsswitch.conf',
      'etc/passwd',
      'root',
      'tmp',
      'usr',
      'usr/bin',
      'usr/bin/env',
      'var',
      'var/tmp',
    ]);
  });

  it('with FHS links, links /bin, /usr, /lib64 into the toolchain and writes no /bin/sh of its own', () => {
    const e = rootLayerEntries({
      user: { name: 'build', uid: 1000 },
      shell: '/nix/store/x-bash/bin/sh',
      fhs: { target: '/nix/store/x-tc', links: ['/bin', '/usr', '/lib64'] },
    });
    const byName = new Map(e.map((x) => [x.name, x]));
    expect(byName.get('bin')).toEqual({ name: 'bin', type: 'symlink', target: '/nix/store/x-tc/bin' });
    expect(byName.get('lib64')).toEqual({ name: 'lib64', type: 'symlink', target: '/nix/store/x-tc/lib64' });
    expect(byName.has('bin/sh')).toBe(false);
    expect(byName.has('usr/bin')).toBe(false);
  });

  it('refuses an image without a shell, a root build user and links that hide /etc', () => {
    expect(() => rootLayerEntries({ user: { name: 'build', uid: 1000 } })).toThrow(/no \/bin\/sh/);
    expect(() => rootLayerEntries({ user: { name: 'build', uid: 0 }, shell: '/s' })).toThrow(/non-root/);
    expect(() =>
      rootLayerEntries({
        user: { name: 'build', uid: 1000 },
        shell: '/s',
        fhs: { target: '/t', links: ['/etc'] },
      }),
    ).toThrow(/hide/);
  });
});

describe('image config', () => {
  const diff = [`sha256:${'a'.repeat(64)}`];
  it('has no creation time or history, sorted keys, and equal inputs give equal bytes', () => {
    const a = imageConfig({ env: ['PATH=/bin'], cmd: ['/bin/sh'], labels: { b: '2', a: '1' } }, diff);
    const b = imageConfig({ labels: { a: '1', b: '2' }, cmd: ['/bin/sh'], env: ['PATH=/bin'] }, diff);
    expect(b.equals(a)).toBe(true);
    expect(a.toString()).toBe(
      `{"architecture":"amd64","config":{"Cmd":["/bin/sh"],"Env":["PATH=/bin"],"Labels":{"a":"1","b":"2"}},"os":"linux","rootfs":{"diff_ids":["sha256:${'a'.repeat(64)}"],"type":"layers"}}`,
    );
    const json = JSON.parse(a.toString()) as Record<string, unknown>;
    expect(json).not.toHaveProperty('created');
    expect(json).not.toHaveProperty('history');
  });
  it('refuses malformed env entries and digests', () => {
    expect(() => imageConfig({ env: ['NOEQUALS'] }, diff)).toThrow(/KEY=value/);
    expect(() => imageConfig({ env: [] }, ['sha256:aa'])).toThrow(/sha256/);
  });
});

/** A tiny image: one "store path" layer and a root layer. */
async function spec(root: string): Promise<ImageSpec> {
  const store = join(root, 'store', `${H}-busybox`);
  await mkdir(join(store, 'bin'), { recursive: true });
  await writeFile(join(store, 'bin/tool'), 'binary');
  await chmod(join(store, 'bin/tool'), 0o755);
  return {
    layers: [
      { kind: 'trees', trees: [{ hostPath: store, imagePath: `/nix/store/${H}-busybox` }] },
      {
        kind: 'entries',
        entries: rootLayerEntries({
          user: { name: 'build', uid: 1000 },
          shell: `/nix/store/${H}-busybox/bin/tool`,
        }),
      },
    ],
    config: {
      env: [`PATH=/nix/store/${H}-busybox/bin`],
      cmd: ['/bin/sh'],
      workingDir: '/build',
      user: '1000:1000',
    },
  };
}

describe('writeImage', () => {
  it('writes an OCI layout and a docker-archive holding the same blobs', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-img-'));
    const out = {
      ociDir: join(root, 'out/oci'),
      dockerArchive: join(root, 'out/image.tar'),
      repoTag: (id: string) => `reprorom/test:${id.slice(7, 19)}`,
    };
    const img = await writeImage(await spec(root), out);
    const blob = (d: string) => readFile(join(out.ociDir, 'blobs/sha256', d.slice(7)));
    const index = JSON.parse(await readFile(join(out.ociDir, 'index.json'), 'utf8'));
    expect(JSON.parse(await readFile(join(out.ociDir, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    expect(index.manifests[0]).toMatchObject({
      mediaType: MEDIA.manifest,
      digest: img.manifestDigest,
      annotations: {
        'org.opencontainers.image.ref.name': img.id.slice(7, 19),
        'io.containerd.image.name': `reprorom/test:${img.id.slice(7, 19)}`,
      },
    });
    const manifestBytes = await blob(img.manifestDigest);
    expect(sha256Digest(manifestBytes)).toBe(img.manifestDigest);
    const manifest = JSON.parse(manifestBytes.toString());
    expect(manifest.config).toMatchObject({ mediaType: MEDIA.config, digest: img.id });
    expect(
      manifest.layers.map((l: { digest: string; mediaType: string }) => [l.mediaType, l.digest]),
    ).toEqual(img.layerDigests.map((d) => [MEDIA.layer, d]));
    const config = await blob(img.id);
    expect(sha256Digest(config)).toBe(img.id);
    expect(JSON.parse(config.toString()).rootfs.diff_ids).toEqual(img.layerDigests);
    for (const d of img.layerDigests) expect(sha256Digest(await blob(d))).toBe(d);
    expect((await readdir(join(out.ociDir, 'blobs/sha256'))).length).toBe(4);
    expect((await readdir(join(root, 'out'))).sort()).toEqual(['image.tar', 'oci']);

    const archive = await tarEntries(out.dockerArchive!);
    const names = archive.map((e) => e.header.name);
    expect(names).toEqual([...names].sort());
    expect(names.slice(-3)).toEqual(['index.json', 'manifest.json', 'oci-layout']);
    for (const e of archive)
      expect([e.header.mtime?.getTime(), e.header.uid, e.header.gid, e.header.uname]).toEqual([
        1000,
        0,
        0,
        '',
      ]);
    const dm = JSON.parse(archive.find((e) => e.header.name === 'manifest.json')!.body.toString());
    expect(dm).toEqual([
      {
        Config: `blobs/sha256/${img.id.slice(7)}`,
        Layers: img.layerDigests.map((d) => `blobs/sha256/${d.slice(7)}`),
        RepoTags: [`reprorom/test:${img.id.slice(7, 19)}`],
      },
    ]);
    for (const e of archive.filter((x) => x.header.type === 'file' && x.header.name.startsWith('blobs/'))) {
      expect(sha256Digest(e.body)).toBe(`sha256:${e.header.name.slice('blobs/sha256/'.length)}`);
    }
  });

  it('the repo tag does not change the ID', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-img-tag-'));
    const s = await spec(root);
    const a = await writeImage(s, {
      ociDir: join(root, 'a/oci'),
      dockerArchive: join(root, 'a/i.tar'),
      repoTag: 'x/y:one',
    });
    const b = await writeImage(await spec(root), {
      ociDir: join(root, 'b/oci'),
      dockerArchive: join(root, 'b/i.tar'),
    });
    expect(b.id).toBe(a.id);
    expect(b.refName).toBe('latest');
    expect(a.refName).toBe('one');
  });

  it('writes byte-identical outputs from different cwd, TMPDIR, HOME and umask', async () => {
    const base = await mkdtemp(join(tmpdir(), 'rr-img-twice-'));
    const run = async (dir: string, env: { cwd: string; tmp: string; umask: number }) => {
      await mkdir(env.cwd, { recursive: true });
      const saved = { cwd: process.cwd(), tmp: process.env['TMPDIR'], home: process.env['HOME'] };
      const mask = process.umask(env.umask);
      process.chdir(env.cwd);
      process.env['TMPDIR'] = env.tmp;
      process.env['HOME'] = env.cwd;
      try {
        return await writeImage(await spec(dir), {
          ociDir: join(dir, 'oci'),
          dockerArchive: join(dir, 'image.tar'),
          repoTag: 'reprorom/t:v',
        });
      } finally {
        process.chdir(saved.cwd);
        process.umask(mask);
        if (saved.tmp === undefined) delete process.env['TMPDIR'];
        else process.env['TMPDIR'] = saved.tmp;
        process.env['HOME'] = saved.home;
      }
    };
    const a = await run(join(base, 'first-place'), {
      cwd: join(base, 'cwd-a'),
      tmp: join(base, 'tmp-a'),
      umask: 0o022,
    });
    const b = await run(join(base, 'second/deeper-place'), {
      cwd: join(base, 'cwd-b'),
      tmp: join(base, 'tmp-b'),
      umask: 0o077,
    });
    expect(b).toMatchObject({ id: a.id, manifestDigest: a.manifestDigest, layerDigests: a.layerDigests });
    const archiveA = await readFile(join(base, 'first-place/image.tar'));
    expect((await readFile(join(base, 'second/deeper-place/image.tar'))).equals(archiveA)).toBe(true);
    // (root's home /root is in /etc/passwd on purpose, so HOME is checked only when it is elsewhere)
    for (const needle of [base, process.cwd(), ...(homedir() === '/root' ? [] : [homedir()])]) {
      expect(archiveA.includes(needle), needle).toBe(false);
    }
    // The OCI folders hold the same files with the same bytes.
    const files = await readdir(join(base, 'first-place/oci'), { recursive: true });
    expect((await readdir(join(base, 'second/deeper-place/oci'), { recursive: true })).sort()).toEqual(
      [...files].sort(),
    );
    for (const f of files.filter(
      (x) => x.includes('.') || x.startsWith('blobs/sha256/') || x === 'oci-layout',
    )) {
      const one = await readFile(join(base, 'first-place/oci', f));
      expect((await readFile(join(base, 'second/deeper-place/oci', f))).equals(one), f).toBe(true);
    }
  });

  it('without a docker-archive file, streams one from the layout with the same entries and bytes, and exports the same file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-img-stream-'));
    const withFile = await writeImage(await spec(root), {
      ociDir: join(root, 'a/oci'),
      dockerArchive: join(root, 'a/image.tar'),
      repoTag: (id: string) => `reprorom/test:${id.slice(7, 19)}`,
    });
    const layoutOnly = await writeImage(await spec(root), {
      ociDir: join(root, 'b/oci'),
      repoTag: (id: string) => `reprorom/test:${id.slice(7, 19)}`,
    });
    expect(layoutOnly.id).toBe(withFile.id);
    expect(layoutOnly.dockerArchive).toBeUndefined();
    expect(await readdir(join(root, 'b'))).toEqual(['oci']);
    const view = (entries: Awaited<ReturnType<typeof tarEntries>>) =>
      entries
        .map((e) => [e.header.name, sha256Digest(e.body)])
        .filter(([n]) => !n!.endsWith('/') && n !== 'blobs' && n !== 'blobs/sha256');
    const streamed = await tarEntries(await dockerArchiveStream(join(root, 'b/oci')));
    expect(view(streamed)).toEqual(view(await tarEntries(withFile.dockerArchive!)));
    await exportDockerArchive(join(root, 'b/oci'), join(root, 'exported.tar'));
    expect((await readFile(join(root, 'exported.tar'))).equals(await readFile(withFile.dockerArchive!))).toBe(
      true,
    );
  });

  it('a cache check finds a truncated layer blob or a changed config, and passes an intact layout', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-img-intact-'));
    const img = await writeImage(await spec(root), { ociDir: join(root, 'oci') });
    expect(await layoutIntact(img.ociDir, img.id)).toBe(true);
    expect(await layoutIntact(img.ociDir, `sha256:${'0'.repeat(64)}`)).toBe(false);
    const layer = join(img.ociDir, 'blobs/sha256', img.layerDigests[0]!.slice(7));
    const bytes = await readFile(layer);
    await writeFile(layer, bytes.subarray(0, bytes.length - 1));
    expect(await layoutIntact(img.ociDir, img.id)).toBe(false);
  });

  it('replaces an old layout and leaves no temp files when a layer fails', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-img-fail-'));
    const out = { ociDir: join(root, 'o/oci'), dockerArchive: join(root, 'o/image.tar') };
    await writeImage(await spec(root), out);
    const bad: ImageSpec = {
      layers: [{ kind: 'trees', trees: [{ hostPath: join(root, 'missing'), imagePath: 'nix/store/x' }] }],
      config: { env: [] },
    };
    await expect(writeImage(bad, out)).rejects.toThrow(/ENOENT/);
    expect((await readdir(join(root, 'o'))).sort()).toEqual(['image.tar', 'oci']);
  });
});
