/**
 * The Docker engine adapter: with connection.ts, images.ts and containers.ts, the ONLY
 * modules that import dockerode. Everything else takes the `Engine` port (port.ts), so unit
 * tests use plain fakes.
 */

import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { DockerConnection } from './connection.js';
import { DockerContainers } from './containers.js';
import { notDocker } from './errors.js';
import { DockerImages } from './images.js';
import type { ConnectOptions, Engine, EngineVersion, ImageInfo, RunResult, RunSpec } from './port.js';

export function connectEngine(opts: ConnectOptions = {}): Engine {
  return new DockerEngine(new DockerConnection(opts.timeoutMs ?? 10_000));
}

class DockerEngine implements Engine {
  readonly endpoint: string;
  readonly #images: DockerImages;
  readonly #containers: DockerContainers;

  constructor(private readonly conn: DockerConnection) {
    this.endpoint = conn.endpoint;
    this.#images = new DockerImages(conn);
    this.#containers = new DockerContainers(conn);
  }

  async ping(): Promise<void> {
    const answer = await this.conn.bounded('ping', (d, abortSignal) =>
      (d.ping as (o: { abortSignal: AbortSignal }) => Promise<unknown>).call(d, { abortSignal }),
    );
    // Docker answers its ping with "OK"; an HTTP server that says 200 to everything does not.
    const text = Buffer.isBuffer(answer) ? answer.toString('utf8') : String(answer);
    if (text.trim() !== 'OK') {
      throw notDocker(this.endpoint, `its /_ping answered ${JSON.stringify(text.trim().slice(0, 40))}`);
    }
  }

  async version(): Promise<EngineVersion> {
    const v = await this.conn.bounded('version', (d, abortSignal) =>
      (d.version as (o: { abortSignal: AbortSignal }) => Promise<Dockerode.DockerVersion>).call(d, {
        abortSignal,
      }),
    );
    if (typeof v?.Version !== 'string' || typeof v.ApiVersion !== 'string') {
      throw notDocker(this.endpoint, 'its /version answer names no Docker version');
    }
    return { version: v.Version, apiVersion: v.ApiVersion, os: v.Os, arch: v.Arch };
  }

  loadImage(archive: string | Readable, opts?: { signal?: AbortSignal }): Promise<string> {
    return this.#images.load(archive, opts);
  }
  importRootfs(tar: string | NodeJS.ReadableStream, repoTag: string): Promise<string> {
    return this.#images.importRootfs(tar, repoTag);
  }
  inspectImage(ref: string): Promise<ImageInfo | undefined> {
    return this.#images.inspect(ref);
  }
  tagImage(ref: string, repoTag: string): Promise<void> {
    return this.#images.tag(ref, repoTag);
  }
  removeImage(ref: string, opts?: { force?: boolean }): Promise<boolean> {
    return this.#images.remove(ref, opts);
  }

  runContainer(spec: RunSpec): Promise<RunResult> {
    return this.#containers.run(spec);
  }
  createContainer(spec: RunSpec): Promise<string> {
    return this.#containers.create(spec);
  }
  startContainer(containerId: string): Promise<void> {
    return this.#containers.start(containerId);
  }
  removeContainer(containerId: string): Promise<void> {
    return this.#containers.remove(containerId);
  }
  putArchive(containerId: string, path: string, tar: NodeJS.ReadableStream | Buffer): Promise<void> {
    return this.#containers.putArchive(containerId, path, tar);
  }
  getArchive(containerId: string, path: string): Promise<Readable> {
    return this.#containers.getArchive(containerId, path);
  }
  listLabelled(label?: string): Promise<string[]> {
    return this.#containers.listLabelled(label);
  }
  removeLabelled(label?: string): Promise<number> {
    return this.#containers.removeLabelled(label);
  }
  removeOrphans(): Promise<number> {
    return this.#containers.removeOrphans();
  }
}
