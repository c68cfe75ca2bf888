import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract, type Header } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { treesLayer, writeLayer } from '../../src/image/layerTar.js';
import { imageConfig } from '../../src/image/oci.js';
import { planLayers, type StorePath } from '../../src/image/plan.js';
import { rootLayerEntries } from '../../src/image/rootfs.js';

const h = (n: number) => n.toString(36).padStart(32, '0').slice(-32);
const sp = (i: number, name: string) => `/nix/store/${h(i)}-${name}`;

/** A closure of `n` leaves over a shared base and libc, like a package set. */
function closureOf(n: number, bumped?: number): StorePath[] {
  const libc = { path: sp(1, 'glibc'), narSize: 30e6, references: [] as string[] };
  const base = { path: sp(2, 'base'), narSize: 5e6, references: [libc.path] };
  const leaves = Array.from({ length: n }, (_, i) => ({
    path: sp(i === bumped ? 9000 + i : 100 + i, `pkg${i}`),
    narSize: 1e5 + i,
    references: [base.path, libc.path],
  }));
  return [libc, base, ...leaves];
}

async function headers(file: string): Promise<Header[]> {
  const out: Header[] = [];
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    out.push(header);
    stream.on('end', next);
    stream.resume();
  });
  await new Promise((res, rej) => {
    ex.on('finish', () => res(undefined)).on('error', rej);
    createReadStream(file).pipe(ex);
  });
  return out;
}

describe('layer planning', () => {
  it('is independent of input order and respects the cap', () => {
    const paths = closureOf(150);
    const a = planLayers(paths, { maxLayers: 100 });
    const b = planLayers([...paths].reverse(), { maxLayers: 100 });
    expect(b).toEqual(a);
    expect(a).toHaveLength(100);
    expect(a.flat().sort()).toEqual(paths.map((p) => p.path).sort());
    // The most depended-on paths get layers of their own.
    expect(a[0]).toEqual([sp(1, 'glibc')]);
    expect(a[1]).toEqual([sp(2, 'base')]);
  });

  it('a one-package bump of a 50-package image keeps at least 90 % of layers', () => {
    const before = planLayers(closureOf(50), { maxLayers: 100 }).map((g) => g.join(','));
    const after = planLayers(closureOf(50, 17), { maxLayers: 100 }).map((g) => g.join(','));
    const kept = after.filter((g) => before.includes(g)).length;
    expect(kept / after.length).toBeGreaterThanOrEqual(0.9);
    expect(after.length - kept).toBe(1);
  });
});

describe('normalized layer tars', () => {
  async function fakeStore(root: string) {
    const p = join(root, 'nix/store', `${h(5)}-hello`);
    await mkdir(join(p, 'bin'), { recursive: true });
    await writeFile(join(p, 'bin/hello'), '#!/bin/sh\necho hi\n');
    await chmod(join(p, 'bin/hello'), 0o751);
    await writeFile(join(p, 'README'), 'text');
    await chmod(join(p, 'README'), 0o640);
    await symlink('hello', join(p, 'bin/hi'));
    return p;
  }

  it('writes sorted entries with fixed metadata and no time records, identical from any cwd and umask', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-layer-'));
    const store = await fakeStore(root);
    const outA = await mkdtemp(join(tmpdir(), 'rr-layer-a-'));
    const outB = await mkdtemp(join(tmpdir(), 'rr-layer-b-'));
    const src = [{ hostPath: store, imagePath: store.slice(root.length + 1) }];
    const a = await writeLayer(treesLayer(src), outA);
    const cwd = process.cwd();
    const mask = process.umask(0o077);
    try {
      process.chdir(outB);
      const b = await writeLayer(treesLayer(src), outB);
      expect(b.digest).toBe(a.digest);
    } finally {
      process.chdir(cwd);
      process.umask(mask);
    }
    const hs = await headers(a.path);
    expect(hs.map((x) => x.name)).toEqual([
      'nix',
      'nix/store',
      `nix/store/${h(5)}-hello`,
      `nix/store/${h(5)}-hello/README`,
      `nix/store/${h(5)}-hello/bin`,
      `nix/store/${h(5)}-hello/bin/hello`,
      `nix/store/${h(5)}-hello/bin/hi`,
    ]);
    for (const x of hs) {
      expect(x.mtime?.getTime()).toBe(1000);
      expect([x.uid, x.gid, x.uname, x.gname]).toEqual([0, 0, '', '']);
    }
    const mode = (name: string) => hs.find((x) => x.name.endsWith(name))?.mode;
    expect(mode('/README')).toBe(0o444);
    expect(mode('/bin/hello')).toBe(0o555);
    expect(mode('/bin')).toBe(0o555);
    const bytes = await readFile(a.path);
    for (const needle of ['atime=', 'ctime=', 'mtime=', root, tmpdir()])
      expect(bytes.includes(needle)).toBe(false);
  });

  it('refuses special files', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-layer-fifo-'));
    await mkdir(join(root, 'x'));
    const { execa } = await import('execa');
    await execa('mkfifo', [join(root, 'x/pipe')]);
    const out = await mkdtemp(join(tmpdir(), 'rr-layer-out-'));
    await expect(
      writeLayer(treesLayer([{ hostPath: join(root, 'x'), imagePath: 'x' }]), out),
    ).rejects.toThrow(/special file/);
  });
});

describe('root layer and config', () => {
  it('has /tmp 1777, a non-root user and FHS links instead of folders', () => {
    const e = rootLayerEntries({
      user: { name: 'build', uid: 1000 },
      fhs: { target: '/nix/store/x-tc', links: ['/bin', '/usr', '/lib64'] },
    });
    const byName = new Map(e.map((x) => [x.name, x]));
    expect(byName.get('tmp')).toMatchObject({ type: 'dir', mode: 0o1777 });
    expect(byName.get('bin')).toEqual({ name: 'bin', type: 'symlink', target: '/nix/store/x-tc/bin' });
    expect(byName.has('usr/bin')).toBe(false);
    const passwd = byName.get('etc/passwd');
    expect(passwd?.type === 'data' && passwd.data.toString()).toContain('build:x:1000:1000:');
    expect(e.map((x) => x.name)).toEqual([...e.map((x) => x.name)].sort());
  });

  it('config has no creation time and no host data, and equal inputs give equal bytes', () => {
    const a = imageConfig({ env: ['PATH=/bin'], cmd: ['/bin/sh'] }, ['sha256:aa']);
    const b = imageConfig({ cmd: ['/bin/sh'], env: ['PATH=/bin'] }, ['sha256:aa']);
    expect(b.equals(a)).toBe(true);
    const json = JSON.parse(a.toString()) as Record<string, unknown>;
    expect(json).not.toHaveProperty('created');
    expect(json).not.toHaveProperty('history');
  });
});
