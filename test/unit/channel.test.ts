import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { finished } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/port.js';
import { OutputChannel, type TransferMode } from '../../src/runs/channel.js';
import { startTransfer } from '../../src/runs/transfer.js';

function collect() {
  const modes: TransferMode[] = [];
  const archives: PassThrough[] = [];
  const channel = new OutputChannel({ onMode: (m) => modes.push(m), onArchive: (a) => archives.push(a) });
  return { channel, modes, archives };
}

async function feed(channel: OutputChannel, chunks: (string | Buffer)[]): Promise<unknown> {
  const errors: unknown[] = [];
  channel.on('error', (e) => errors.push(e));
  for (const c of chunks) channel.write(typeof c === 'string' ? Buffer.from(c) : c);
  channel.end();
  await finished(channel).catch(() => undefined);
  return errors[0];
}

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const p = pack();
  for (const [name, body] of Object.entries(files)) p.entry({ name, mode: 0o644 }, body);
  p.finalize();
  const parts: Buffer[] = [];
  for await (const c of p as unknown as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

describe('output channel', () => {
  it('list mode: the header, then names split into lines, even across chunks', async () => {
    const { channel, modes, archives } = collect();
    expect(await feed(channel, ['repro', 'rom:list\n./a.b', 'in\n./dir/c d.rom\n'])).toBeUndefined();
    expect(modes).toEqual(['list']);
    expect(channel.names).toEqual(['./a.bin', './dir/c d.rom']);
    expect(archives).toEqual([]);
  });

  it('tar mode: every byte after the header goes to the archive, unchanged', async () => {
    const { channel, modes, archives } = collect();
    const payload = Buffer.from([0, 1, 10, 255, 10, 0]);
    const done = feed(channel, ['reprorom:tar\n', payload.subarray(0, 3), payload.subarray(3)]);
    await new Promise((r) => setImmediate(r));
    expect(modes).toEqual(['tar']);
    const got = archives[0] ? await buffer(archives[0]) : Buffer.alloc(0);
    expect(await done).toBeUndefined();
    expect(got.equals(payload)).toBe(true);
  });

  it('tar mode with nothing after the header hands over no archive', async () => {
    const { channel, modes, archives } = collect();
    expect(await feed(channel, ['reprorom:tar\n'])).toBeUndefined();
    expect(modes).toEqual(['tar']);
    expect(archives).toEqual([]);
  });

  it('refuses output that does not start with a header, saying what it saw', async () => {
    const { channel, modes } = collect();
    const err = await feed(channel, ['out/bios.bin\n']);
    expect(String(err)).toMatch(/wrote "out\/bios\.bin" where reprorom expected its own header/);
    expect(modes).toEqual([]);
  });

  it('refuses a first line longer than any header without waiting for its end', async () => {
    const { channel } = collect();
    const err = await feed(channel, ['x'.repeat(100)]);
    expect(String(err)).toMatch(/expected its own header/);
  });
});

/** An engine whose archive API is a folder of files; only what list mode uses. */
function archiveEngine(files: Record<string, string>, calls: string[]): Engine {
  return {
    putArchive: async (_id: string, path: string) => {
      calls.push(`put ${path}`);
    },
    getArchive: async (_id: string, path: string) => {
      calls.push(`get ${path}`);
      const name = path.split('/').pop() ?? '';
      return Readable.from(await tarOf({ [name]: files[path] ?? '' }));
    },
  } as unknown as Engine;
}

describe('transfer', () => {
  it('list mode copies in through the archive API, says go, and copies each named artifact once', async () => {
    const into = join(await mkdtemp(join(tmpdir(), 'rr-transfer-')), 'artifacts');
    const calls: string[] = [];
    const engine = archiveEngine({ '/build/src/out/a.bin': 'A', '/build/src/b.rom': 'B' }, calls);
    const t = startTransfer({ engine, into, source: () => Readable.from([Buffer.from('src')]) });
    t.created('c1');
    t.channel.write(Buffer.from('reprorom:list\n'));
    expect((await t.stdin.read()) ?? (await new Promise((r) => t.stdin.once('data', r)))).toEqual(
      Buffer.from('go\n'),
    );
    t.channel.write(Buffer.from('./out/a.bin\n./b.rom\n./out/a.bin\n'));
    const artifacts = await t.finish(0);
    expect(calls).toEqual(['put /build', 'get /build/src/b.rom', 'get /build/src/out/a.bin']);
    expect(artifacts.map((a) => [a.path, a.size])).toEqual([
      ['artifacts/b.rom', 1],
      ['artifacts/out/a.bin', 1],
    ]);
    expect(await readFile(join(into, 'out', 'a.bin'), 'utf8')).toBe('A');
    t.close();
  });

  it('list mode: a failed copy-in tells the container to stop and fails the run with the cause', async () => {
    const into = join(await mkdtemp(join(tmpdir(), 'rr-transfer-')), 'artifacts');
    const engine = {
      putArchive: async () => {
        throw new Error('disk full in the engine');
      },
    } as unknown as Engine;
    const t = startTransfer({ engine, into, source: () => Readable.from([Buffer.from('src')]) });
    t.created('c1');
    t.channel.write(Buffer.from('reprorom:list\n'));
    const word = await new Promise<Buffer>((r) => t.stdin.once('data', r));
    expect(word.toString()).toBe('stop\n');
    await expect(t.finish(125)).rejects.toThrow(/disk full in the engine/);
    t.close();
  });

  it('tar mode pads the source to whole 10240-byte records and extracts the streamed artifacts', async () => {
    const into = join(await mkdtemp(join(tmpdir(), 'rr-transfer-')), 'artifacts');
    const source = await tarOf({ 'src/f': 'x' });
    const t = startTransfer({ engine: {} as Engine, into, source: () => Readable.from([source]) });
    t.created('c1');
    const sent: Buffer[] = [];
    // A real container reads its whole source (one record here) before it writes artifacts and exits.
    const uploaded = new Promise<void>((resolve) =>
      t.stdin.on('data', (c: Buffer) => {
        sent.push(c);
        if (Buffer.concat(sent).length >= 10240) resolve();
      }),
    );
    t.channel.write(Buffer.from('reprorom:tar\n'));
    await uploaded;
    t.channel.write(await tarOf({ './out/a.bin': 'AA', './z.rom': 'Z' }));
    const artifacts = await t.finish(0);
    const total = Buffer.concat(sent);
    expect(total.length % 10240).toBe(0);
    expect(total.subarray(0, source.length).equals(source)).toBe(true);
    expect(artifacts.map((a) => [a.path, a.size])).toEqual([
      ['artifacts/out/a.bin', 2],
      ['artifacts/z.rom', 1],
    ]);
    t.close();
  });

  /** A transfer whose first failure is awaited: said while the container may still run. */
  async function failing(source: () => Readable) {
    const into = join(await mkdtemp(join(tmpdir(), 'rr-transfer-')), 'artifacts');
    let said: (err: unknown) => void = () => {};
    const stop = new Promise<unknown>((resolve) => {
      said = resolve;
    });
    const t = startTransfer({ engine: {} as Engine, into, source, onFailure: (err) => said(err) });
    return { t, stop };
  }

  it('tar mode refuses an artifact archive entry that escapes the output folder, and says stop at once', async () => {
    const { t, stop } = await failing(() => Readable.from([Buffer.alloc(0)]));
    t.channel.write(Buffer.from('reprorom:tar\n'));
    t.channel.write(await tarOf({ '../escape.bin': 'E' }));
    expect(String(await stop)).toMatch(/refused artifact archive entry/);
    await expect(t.finish(0)).rejects.toThrow(/refused artifact archive entry/);
    t.close();
  });

  it('a source that fails to read fails the upload, stops the container and names the cause', async () => {
    const broken = new Readable({
      read() {
        this.destroy(new Error('EACCES: permission denied, open src/secret'));
      },
    });
    const { t, stop } = await failing(() => broken);
    t.channel.write(Buffer.from('reprorom:tar\n'));
    expect(String(await stop)).toMatch(/EACCES/);
    await expect(t.finish(137)).rejects.toThrow(/EACCES/);
    t.close();
  });

  it('a container that stopped reading its source does not leave the run waiting', async () => {
    const into = join(await mkdtemp(join(tmpdir(), 'rr-transfer-')), 'artifacts');
    // 8 MiB that nobody reads: far more than the streams buffer, so the upload stalls.
    const big = Readable.from(
      (function* () {
        for (let i = 0; i < 128; i++) yield Buffer.alloc(64 * 1024, i);
      })(),
    );
    const t = startTransfer({ engine: {} as Engine, into, source: () => big });
    t.channel.write(Buffer.from('reprorom:tar\n'));
    await new Promise((r) => setTimeout(r, 50));
    // The container's tar failed, so it exited 2: finishing must not wait for the upload.
    expect(await t.finish(2)).toEqual([]);
    t.close();
  }, 5000);

  it('a failed build returns no artifacts', async () => {
    const into = join(await mkdtemp(join(tmpdir(), 'rr-transfer-')), 'artifacts');
    const t = startTransfer({ engine: {} as Engine, into, source: () => Readable.from([Buffer.alloc(0)]) });
    t.channel.write(Buffer.from('reprorom:tar\n'));
    expect(await t.finish(2)).toEqual([]);
    t.close();
  });
});
