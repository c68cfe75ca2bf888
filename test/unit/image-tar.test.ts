import { chmod, link, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { pathOrder, treesLayer, writeLayer } from '../../src/image/tarLayer.js';
import { tarEntries as entries } from '../helpers/tar.js';

const H = 'abcdfghijklmnpqrsvwxyz0123456789';

/** A fake store path with the awkward cases: exec bits, odd modes, symlinks, hard links, long names, empty files. */
async function fakeStorePath(root: string, name = 'hello'): Promise<string> {
  const p = join(root, 'nix/store', `${H}-${name}`);
  await mkdir(join(p, 'bin'), { recursive: true });
  await writeFile(join(p, 'bin/hello'), '#!/bin/sh\necho hi\n');
  await chmod(join(p, 'bin/hello'), 0o751);
  await writeFile(join(p, 'README'), 'text');
  await chmod(join(p, 'README'), 0o640);
  await writeFile(join(p, 'empty'), '');
  await symlink('hello', join(p, 'bin/hi'));
  await symlink(`/nix/store/${H}-other/${'t'.repeat(120)}`, join(p, 'bin/longlink'));
  await link(join(p, 'README'), join(p, 'README.hardlink'));
  // Sorting traps: '-' (0x2d) < '/' (0x2f) < 'B' < 'a'; a folder "a" and a file "a-b".
  await mkdir(join(p, 'a'));
  await writeFile(join(p, 'a/x'), 'x');
  await writeFile(join(p, 'a-b'), 'y');
  await writeFile(join(p, 'B'), 'z');
  const deep = join(p, 'share', 'd'.repeat(60), 'e'.repeat(60));
  await mkdir(deep, { recursive: true });
  await writeFile(join(deep, `${'f'.repeat(90)}.txt`), 'deep');
  await writeFile(join(p, 'share', 'ünïcödé'), 'u');
  return p;
}

describe('normalized layer tars', () => {
  it('writes relative names in sorted order, parents first, with fixed metadata and normalized modes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-tar-'));
    const store = await fakeStorePath(root);
    const out = await mkdtemp(join(tmpdir(), 'rr-tar-out-'));
    const layer = await writeLayer(
      treesLayer([{ hostPath: store, imagePath: `/nix/store/${H}-hello` }]),
      out,
    );
    const es = await entries(layer.path);
    const names = es.map((e) => e.header.name);
    const top = `nix/store/${H}-hello`;
    expect(names.slice(0, 10)).toEqual([
      'nix',
      'nix/store',
      top,
      `${top}/B`,
      `${top}/README`,
      `${top}/README.hardlink`,
      `${top}/a`,
      `${top}/a/x`,
      `${top}/a-b`,
      `${top}/bin`,
    ]);
    expect([...names].sort(pathOrder)).toEqual(names);
    for (const [i, n] of names.entries()) {
      const parent = n.slice(0, n.lastIndexOf('/'));
      if (n.includes('/')) expect(names.slice(0, i)).toContain(parent);
      expect(n.startsWith('/')).toBe(false);
    }
    const byName = new Map(es.map((e) => [e.header.name, e]));
    for (const { header } of es) {
      expect(header.mtime?.getTime()).toBe(1000);
      expect([header.uid, header.gid, header.uname, header.gname]).toEqual([0, 0, '', '']);
    }
    const mode = (n: string) => byName.get(`${top}/${n}`)?.header.mode;
    expect(mode('README')).toBe(0o444);
    expect(mode('bin/hello')).toBe(0o555);
    expect(mode('bin')).toBe(0o555);
    expect(byName.get('nix/store')?.header.mode).toBe(0o755);
    expect(byName.get(`${top}/bin/hi`)?.header).toMatchObject({ type: 'symlink', linkname: 'hello' });
    // Long link targets and names survive (pax path/linkpath records), as do non-ASCII names.
    expect(byName.get(`${top}/bin/longlink`)?.header.linkname).toBe(
      `/nix/store/${H}-other/${'t'.repeat(120)}`,
    );
    expect(
      byName.get(`${top}/share/${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(90)}.txt`)?.body.toString(),
    ).toBe('deep');
    expect(byName.get(`${top}/share/ünïcödé`)?.body.toString()).toBe('u');
    // Hard links are written as two regular files with the full content.
    expect(byName.get(`${top}/README.hardlink`)?.header.type).toBe('file');
    expect(byName.get(`${top}/README.hardlink`)?.body.toString()).toBe('text');
    expect(byName.get(`${top}/empty`)?.header).toMatchObject({ type: 'file', size: 0 });

    // The raw bytes: no time records in pax headers, nothing from the host.
    const bytes = await readFile(layer.path);
    for (const needle of ['atime=', 'ctime=', 'mtime=', root, out, tmpdir(), homedir(), process.cwd()]) {
      expect(bytes.includes(needle), needle).toBe(false);
    }
    expect(layer.size).toBe(bytes.length);
    const { createHash } = await import('node:crypto');
    expect(layer.digest).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    expect(layer.path).toBe(join(out, layer.digest.slice(7)));
  });

  it('GNU tar reads the layer and lists the same entries', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-tar-gnu-'));
    const store = await fakeStorePath(root);
    const out = await mkdtemp(join(tmpdir(), 'rr-tar-gnu-out-'));
    const layer = await writeLayer(treesLayer([{ hostPath: store, imagePath: `nix/store/${H}-hello` }]), out);
    const listed = (await execa('tar', ['-tf', layer.path])).stdout
      .split('\n')
      .map((n) => n.replace(/\/$/, ''));
    expect(listed).toEqual((await entries(layer.path)).map((e) => e.header.name));
    const dest = await mkdtemp(join(tmpdir(), 'rr-tar-gnu-x-'));
    await execa('tar', ['-xf', layer.path, '-C', dest]);
    expect(await readFile(join(dest, `nix/store/${H}-hello/bin/hello`), 'utf8')).toContain('echo hi');
  });

  it('gives identical bytes from any cwd and umask, and honours a SOURCE_DATE_EPOCH-like mtime', async () => {
    const rootA = await mkdtemp(join(tmpdir(), 'rr-tar-a-'));
    const storeA = await fakeStorePath(rootA);
    const cwd = process.cwd();
    const mask = process.umask(0o077);
    let storeB: string;
    const rootB = await mkdtemp(join(tmpdir(), 'rr-tar-b-'));
    try {
      process.chdir(rootB);
      storeB = await fakeStorePath(rootB);
    } finally {
      process.chdir(cwd);
      process.umask(mask);
    }
    const out = await mkdtemp(join(tmpdir(), 'rr-tar-ab-'));
    const a = await writeLayer(treesLayer([{ hostPath: storeA, imagePath: `nix/store/${H}-hello` }]), out);
    const b = await writeLayer(treesLayer([{ hostPath: storeB, imagePath: `nix/store/${H}-hello` }]), out);
    expect(b.digest).toBe(a.digest);
    const c = await writeLayer(treesLayer([{ hostPath: storeA, imagePath: `nix/store/${H}-hello` }]), out, {
      mtime: 1700000000,
    });
    expect(c.digest).not.toBe(a.digest);
    expect((await entries(c.path)).every((e) => e.header.mtime?.getTime() === 1700000000 * 1000)).toBe(true);
  });

  it('puts several trees in one layer with shared parents once, in order whatever the input order', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-tar-multi-'));
    const p1 = await fakeStorePath(root, 'one');
    const p2 = await fakeStorePath(root, 'one-two');
    const out = await mkdtemp(join(tmpdir(), 'rr-tar-multi-out-'));
    const src = [p2, p1].map((p) => ({ hostPath: p, imagePath: p.slice(root.length) }));
    const a = await writeLayer(treesLayer(src), out);
    const b = await writeLayer(treesLayer([...src].reverse()), out);
    expect(b.digest).toBe(a.digest);
    const names = (await entries(a.path)).map((e) => e.header.name);
    expect(names.filter((n) => n === 'nix/store')).toHaveLength(1);
    expect(names.indexOf(`nix/store/${H}-one/share`)).toBeLessThan(names.indexOf(`nix/store/${H}-one-two`));
    await expect(
      writeLayer(treesLayer([src[0]!, { hostPath: p1, imagePath: `${src[0]!.imagePath}/x` }]), out),
    ).rejects.toThrow(/overlap/);
  });

  it('writes writable trees with 0755/0644 modes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-tar-w-'));
    const store = await fakeStorePath(root);
    const out = await mkdtemp(join(tmpdir(), 'rr-tar-w-out-'));
    const layer = await writeLayer(
      treesLayer([{ hostPath: store, imagePath: 'opt/hello', modes: 'writable' }]),
      out,
    );
    const byName = new Map((await entries(layer.path)).map((e) => [e.header.name, e.header.mode]));
    expect([
      byName.get('opt/hello/README'),
      byName.get('opt/hello/bin/hello'),
      byName.get('opt/hello/bin'),
    ]).toEqual([0o644, 0o755, 0o755]);
  });

  it('refuses fifos and sockets and leaves no temp file behind', async () => {
    const { readdir } = await import('node:fs/promises');
    const root = await mkdtemp(join(tmpdir(), 'rr-tar-special-'));
    await mkdir(join(root, 'x'));
    await writeFile(join(root, 'x/a'), 'a');
    await execa('mkfifo', [join(root, 'x/pipe')]);
    const out = await mkdtemp(join(tmpdir(), 'rr-tar-special-out-'));
    await expect(
      writeLayer(treesLayer([{ hostPath: join(root, 'x'), imagePath: 'x' }]), out),
    ).rejects.toThrow(/socket, device or fifo/);
    await mkdir(join(root, 'y'));
    const server = createServer();
    await new Promise<void>((res) => server.listen(join(root, 'y/sock'), res));
    try {
      await expect(
        writeLayer(treesLayer([{ hostPath: join(root, 'y'), imagePath: 'y' }]), out),
      ).rejects.toThrow(/socket, device or fifo/);
    } finally {
      server.close();
    }
    expect(await readdir(out)).toEqual([]);
  });

  it('refuses entries out of order or without their folder', async () => {
    const out = await mkdtemp(join(tmpdir(), 'rr-tar-order-'));
    await expect(
      writeLayer(
        [
          { name: 'b', type: 'dir' },
          { name: 'a', type: 'dir' },
        ],
        out,
      ),
    ).rejects.toThrow(/out of order/);
    await expect(writeLayer([{ name: 'a/b', type: 'dir' }], out)).rejects.toThrow(/without its folder/);
  });

  it('streams a file larger than its buffers without holding it in memory', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rr-tar-big-'));
    const big = join(root, 'big');
    // 40 MiB sparse-ish file: ten times the writer's buffer.
    await execa('truncate', ['-s', '40M', big]);
    await writeFile(join(root, 'small'), 'x');
    const out = await mkdtemp(join(tmpdir(), 'rr-tar-big-out-'));
    const layer = await writeLayer(treesLayer([{ hostPath: root, imagePath: 'data' }]), out);
    const sum = (await execa('sha256sum', [layer.path])).stdout.split(' ')[0];
    expect(layer.digest).toBe(`sha256:${sum}`);
    const listed = (await execa('tar', ['-tvf', layer.path])).stdout;
    expect(listed).toContain('41943040');
  });
});
