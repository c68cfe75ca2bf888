/** Images on a Docker engine: load, import, inspect, tag, remove. */

import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { ImageBuildError } from '../util/errors.js';
import { type DockerConnection, imageError } from './connection.js';
import { statusOf } from './errors.js';
import type { ImageInfo } from './port.js';

/** Progress events of load/import/pull streams. */
interface ProgressEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

export class DockerImages {
  constructor(private readonly conn: DockerConnection) {}

  async load(archive: string | Readable, opts: { signal?: AbortSignal } = {}): Promise<string> {
    const tarPath = typeof archive === 'string' ? archive : 'the image archive';
    const input = typeof archive === 'string' ? createReadStream(archive) : archive;
    const events = await this.conn.call(`loading ${tarPath}`, imageError, async (d) => {
      const stream = await d.loadImage(input, { quiet: true, abortSignal: opts.signal });
      return readEvents(stream);
    });
    failOnEventError(`loading ${tarPath}`, events);
    const text = events.map((e) => e.stream ?? '').join('');
    const byId = /Loaded image ID: (sha256:[0-9a-f]{64})/.exec(text)?.[1];
    if (byId) return byId;
    // A tagged archive reports "Loaded image: repo:tag"; the ID comes from inspecting it.
    const tag = /Loaded image: (\S+)/.exec(text)?.[1];
    const info = tag ? await this.inspect(tag) : undefined;
    if (!info) {
      throw new ImageBuildError(
        `loading ${tarPath}: the engine reported no image (${text.trim() || 'no output'})`,
        'check that the file is a docker-archive (docker save format)',
      );
    }
    return info.id;
  }

  async importRootfs(tar: string | NodeJS.ReadableStream, repoTag: string): Promise<string> {
    const { repo, tag } = splitRepoTag(repoTag);
    const events = await this.conn.call(`importing ${repoTag}`, imageError, async (d) => {
      const input = typeof tar === 'string' ? createReadStream(tar) : tar;
      return readEvents(await d.importImage(input, { repo, tag }));
    });
    failOnEventError(`importing ${repoTag}`, events);
    const info = await this.inspect(repoTag);
    if (!info) throw new ImageBuildError(`importing ${repoTag}: the engine reported no image`);
    return info.id;
  }

  async inspect(ref: string): Promise<ImageInfo | undefined> {
    try {
      const i = await this.conn.docker.getImage(ref).inspect();
      const c = i.Config as Partial<Dockerode.ImageInspectInfo['Config']> | null;
      return {
        id: i.Id,
        repoTags: i.RepoTags ?? [],
        env: c?.Env ?? [],
        entrypoint: toList(c?.Entrypoint),
        cmd: toList(c?.Cmd),
        workingDir: c?.WorkingDir ?? '',
        user: c?.User ?? '',
        labels: c?.Labels ?? {},
        created: i.Created,
        os: i.Os,
        architecture: i.Architecture,
        size: i.Size,
      };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw this.conn.mapError(`inspecting image ${ref}`, err, imageError);
    }
  }

  async tag(ref: string, repoTag: string): Promise<void> {
    const { repo, tag } = splitRepoTag(repoTag);
    await this.conn.call(`tagging ${ref} as ${repoTag}`, imageError, (d) =>
      d.getImage(ref).tag({ repo, tag }),
    );
  }

  async remove(ref: string, opts: { force?: boolean } = {}): Promise<boolean> {
    try {
      await this.conn.docker.getImage(ref).remove({ force: opts.force ?? false });
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw this.conn.mapError(`removing image ${ref}`, err, imageError);
    }
  }
}

/** Read a newline-delimited JSON progress stream to its end. */
async function readEvents(stream: NodeJS.ReadableStream): Promise<ProgressEvent[]> {
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer | string>) text += chunk.toString();
  const events: ProgressEvent[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line) as ProgressEvent);
    } catch {
      events.push({ stream: `${line}\n` });
    }
  }
  return events;
}

/** followProgress only reports transport errors; the engine reports load errors as events. */
function failOnEventError(what: string, events: ProgressEvent[]): void {
  for (const e of events) {
    const message = e.errorDetail?.message ?? e.error;
    if (message)
      throw new ImageBuildError(`${what}: ${message.trim()}`, 'check that the archive is complete and valid');
  }
}

export function splitRepoTag(repoTag: string): { repo: string; tag: string } {
  const slash = repoTag.lastIndexOf('/');
  const colon = repoTag.lastIndexOf(':');
  if (colon > slash) return { repo: repoTag.slice(0, colon), tag: repoTag.slice(colon + 1) };
  return { repo: repoTag, tag: 'latest' };
}

function toList(v: string | string[] | null | undefined): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  return Array.isArray(v) ? v : [v];
}
