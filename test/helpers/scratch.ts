/**
 * Tiny scratch images built in memory from the static busybox of Debian's
 * `busybox-static` package: a rootfs tar (for `docker import`) and a docker-archive
 * (for `docker load`) whose image ID we can predict.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pack } from 'tar-stream';

export const BUSYBOX = '/bin/busybox';

interface Entry {
  name: string;
  type: 'directory' | 'file';
  mode: number;
  body?: Buffer;
}

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const e of entries) {
    const header = {
      name: e.name,
      type: e.type,
      mode: e.mode,
      mtime: new Date(1000),
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
    };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (e.body) p.entry(header, e.body, cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A root filesystem: /bin/busybox, /bin/sh → busybox (a copy), /tmp, /work, /out. */
export async function busyboxRootfsTar(): Promise<Buffer> {
  const busybox = await readFile(BUSYBOX);
  return tarOf([
    { name: 'bin', type: 'directory', mode: 0o755 },
    { name: 'bin/busybox', type: 'file', mode: 0o755, body: busybox },
    { name: 'bin/sh', type: 'file', mode: 0o755, body: busybox },
    { name: 'out', type: 'directory', mode: 0o777 },
    { name: 'tmp', type: 'directory', mode: 0o1777 },
    { name: 'work', type: 'directory', mode: 0o755 },
  ]);
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A docker-archive (docker save format) holding one layer; `expectedId` is sha256 of its config. */
export async function busyboxDockerArchive(
  opts: { env?: string[]; cmd?: string[]; repoTag?: string } = {},
): Promise<{ tar: Buffer; expectedId: string }> {
  const layer = await busyboxRootfsTar();
  const layerSha = sha256(layer);
  const config = JSON.stringify({
    architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
    os: 'linux',
    config: { Env: opts.env ?? ['PATH=/bin'], Cmd: opts.cmd ?? ['/bin/busybox', 'sh'], WorkingDir: '/work' },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerSha}`] },
    history: [{ created_by: 'reprorom test' }],
  });
  const configSha = sha256(config);
  const manifest = JSON.stringify([
    {
      Config: `${configSha}.json`,
      RepoTags: opts.repoTag ? [opts.repoTag] : null,
      Layers: [`${layerSha}/layer.tar`],
    },
  ]);
  const tar = await tarOf([
    { name: `${configSha}.json`, type: 'file', mode: 0o644, body: Buffer.from(config) },
    { name: layerSha, type: 'directory', mode: 0o755 },
    { name: `${layerSha}/layer.tar`, type: 'file', mode: 0o644, body: layer },
    { name: 'manifest.json', type: 'file', mode: 0o644, body: Buffer.from(manifest) },
  ]);
  return { tar, expectedId: `sha256:${configSha}` };
}

/** A one-file tar, for putArchive. */
export async function singleFileTar(name: string, content: string): Promise<Buffer> {
  return tarOf([{ name, type: 'file', mode: 0o644, body: Buffer.from(content) }]);
}

/** name → content of the regular files in a tar stream (for getArchive results). */
export async function readTarFiles(stream: NodeJS.ReadableStream): Promise<Map<string, string>> {
  const { extract } = await import('tar-stream');
  const ex = extract();
  const files = new Map<string, string>();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('finish', () => resolve());
    ex.on('error', reject);
  });
  ex.on('entry', (header, body, next) => {
    const chunks: Buffer[] = [];
    body.on('data', (c: unknown) => chunks.push(c as Buffer));
    body.on('end', () => {
      if (header.type === 'file') files.set(header.name, Buffer.concat(chunks).toString('utf8'));
      next();
    });
    body.resume();
  });
  stream.pipe(ex);
  await done;
  return files;
}
