/**
 * The Docker engine adapter: the ONLY module that imports dockerode. Everything else
 * takes the `Engine` interface, so unit tests use plain fakes.
 *
 * Run sequence (DESIGN.md): create (labelled) → attach → demux → start → wait → remove in
 * `finally`. Never AutoRemove: a fast container could vanish before `wait` sees it.
 */

import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Agent, type AgentOptions } from 'node:http';
import { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import Dockerode from 'dockerode';
import { BuildFailedError, ImageBuildError, type ReproromError } from '../util/errors.js';
import { ownerId, ownerIsGone } from '../util/owner.js';
import { checkDockerHost, silenceUrlParseWarning } from './dockerHost.js';
import {
  isConnectionError,
  mapEngineError,
  notDocker,
  notDockerAnswer,
  statusOf,
  unavailable,
} from './errors.js';
import { MASKED_PATHS, READONLY_PATHS } from './hostMasks.js';
import { lineWriter } from './lines.js';

/** The container ran past RunSpec.timeoutMs and was killed (and is removed like any other). */
export class ContainerTimeoutError extends BuildFailedError {
  constructor(readonly timeoutMs: number) {
    super(
      `container timed out after ${Math.round(timeoutMs / 1000)} s and was killed`,
      'raise the timeout or look at the build log for a hang',
    );
  }
}

/** Every container this tool creates carries this label, so `removeLabelled()` can find leftovers. */
export const ENGINE_LABEL = 'reprorom';
export const RUN_LABEL = 'reprorom.run';
/** Which process on which machine owns a container: lets a later run clean up after a crash. */
export const OWNER_LABEL = 'reprorom.owner';

/** `HOST:PID` of this process, the value of OWNER_LABEL (util/owner.ts). */
export { ownerId };

export interface EngineVersion {
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
}

export interface ImageInfo {
  id: string;
  repoTags: string[];
  env: string[];
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
  workingDir: string;
  user: string;
  labels: Record<string, string>;
  created: string;
  os: string;
  architecture: string;
  size: number;
}

export interface MountSpec {
  /** Host path. */
  source: string;
  /** Path inside the container. */
  target: string;
  readOnly: boolean;
}

export interface RunSpec {
  image: string;
  cmd: string[];
  entrypoint?: string[];
  /** Sorted by name before use, so the container's Env does not depend on insertion order. */
  env?: Record<string, string>;
  user?: string;
  workingDir?: string;
  hostname?: string;
  /** The UTS domain name the container sees. */
  domainname?: string;
  /** CPUs the container may use, e.g. "0" or "0-1" (a cpuset: `nproc` counts them). */
  cpusetCpus?: string;
  name?: string;
  /** Extra labels; `reprorom=1` and `reprorom.run=<runId>` are always set. */
  labels?: Record<string, string>;
  runId?: string;
  mounts?: MountSpec[];
  /** Mount point → options, e.g. `{ '/tmp': 'rw,size=256m' }`. */
  tmpfs?: Record<string, string>;
  /** Default 'none': builds never reach a network. */
  network?: string;
  /** Default ['ALL']. */
  capDrop?: string[];
  capAdd?: string[];
  /** Default ['no-new-privileges']. */
  securityOpt?: string[];
  readOnlyRootfs?: boolean;
  memoryBytes?: number;
  pidsLimit?: number;
  /** Kill the container after this long and fail with BuildFailedError. */
  timeoutMs?: number;
  /** Kill + remove the container and reject with the signal's reason. */
  signal?: AbortSignal;
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
  /** Raw output copies (e.g. a log file); never ended by the adapter. */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /**
   * Bytes for the container's stdin (not a terminal). Never ended by the adapter: a
   * half-close passed through a TCP proxy can close the output direction with it, so the
   * reader in the container must know where its input ends (a tar archive does).
   */
  stdin?: NodeJS.ReadableStream;
  /** Runs after create, before start: copy sources in with putArchive. */
  beforeStart?: (containerId: string) => Promise<void>;
  /** A person at a terminal: stdin goes in, output comes out raw (a TTY when `tty`). */
  interactive?: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; tty: boolean };
  /** Runs after the container exits, before it is removed: copy artifacts out with getArchive. */
  afterExit?: (containerId: string, exitCode: number) => Promise<void>;
}

export interface RunResult {
  containerId: string;
  runId: string;
  exitCode: number;
  durationMs: number;
  /** The kernel killed the container for exceeding its memory limit. */
  oomKilled: boolean;
}

export interface Engine {
  /** Where the engine is expected (DOCKER_HOST or the default socket), for messages. */
  readonly endpoint: string;
  ping(): Promise<void>;
  version(): Promise<EngineVersion>;
  /** `docker load` of a docker-archive file; returns the loaded image ID (sha256:…). */
  /** `docker load` of a docker-archive, from a file or a stream; returns the image ID. */
  loadImage(archive: string | Readable, opts?: { signal?: AbortSignal }): Promise<string>;
  /** `docker import` of a root filesystem tar; returns the new image ID. */
  importRootfs(tar: string | NodeJS.ReadableStream, repoTag: string): Promise<string>;
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  tagImage(ref: string, repoTag: string): Promise<void>;
  /** True when removed, false when there was no such image. */
  removeImage(ref: string, opts?: { force?: boolean }): Promise<boolean>;
  runContainer(spec: RunSpec): Promise<RunResult>;
  /** Create (labelled, hardened) without starting; pair with startContainer/removeContainer. */
  createContainer(spec: RunSpec): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  /** Force-remove with volumes; a container that is already gone is fine. */
  removeContainer(containerId: string): Promise<void>;
  putArchive(containerId: string, path: string, tar: NodeJS.ReadableStream | Buffer): Promise<void>;
  getArchive(containerId: string, path: string): Promise<Readable>;
  /** IDs of all containers (running or not) carrying `label` (default `reprorom`). */
  listLabelled(label?: string): Promise<string[]>;
  /** Remove every container carrying `label`; returns how many were removed. */
  removeLabelled(label?: string): Promise<number>;
  /** Remove containers left by reprorom processes of this machine that died; returns how many. */
  removeOrphans(): Promise<number>;
}

export interface ConnectOptions {
  /** Bound for ping/version (default 10 s); long calls (wait, load) are not bounded by it. */
  timeoutMs?: number;
}

/** Progress events of load/import/pull streams. */
interface ProgressEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

interface WaitResult {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

export function engineEndpoint(): string {
  return process.env['DOCKER_HOST'] || 'unix:///var/run/docker.sock';
}

/**
 * For the local socket: an HTTP agent that names no TLS server. Node's agent otherwise
 * checks whether the host is an IP address, and the first such check compiles a large
 * regular expression (~20 ms of every command here). Remote engines keep dockerode's own.
 */
function localSocketOptions(): Dockerode.DockerOptions | undefined {
  const host = process.env['DOCKER_HOST'];
  if (host !== undefined && host !== '' && !host.startsWith('unix://')) return undefined;
  // docker-modem takes `agent`; dockerode's types do not list it.
  return { agent: localSocketAgent() } as Dockerode.DockerOptions;
}

/**
 * The agent of localSocketOptions, which reads as one short line under util.inspect.
 * docker-modem formats every request's options, agent included, with
 * `util.inspect(options, { showHidden: true, depth: null })` for its debug log, even when
 * that log is off; an agent holding the sockets of attached containers and of pending
 * `wait` calls made that walk ~15 ms of CPU per request, about a third of the CPU time of a
 * six-board build (bench/README.md, `graph`).
 */
export function localSocketAgent(): Agent {
  const agent = new Agent({ servername: '' } as AgentOptions);
  Object.defineProperty(agent, inspect.custom, { value: () => '[Agent: local engine socket]' });
  return agent;
}

export function connectEngine(opts: ConnectOptions = {}): Engine {
  return new DockerEngine(opts.timeoutMs ?? 10_000);
}

const imageError = (message: string, cause: unknown): ReproromError =>
  new ImageBuildError(message, undefined, { cause });
const runError = (message: string, cause: unknown): ReproromError =>
  new BuildFailedError(message, undefined, { cause });

class DockerEngine implements Engine {
  readonly endpoint = engineEndpoint();
  #docker: Dockerode | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** Lazy, so a malformed DOCKER_HOST surfaces as EngineUnavailableError on first use, not at import. */
  private get docker(): Dockerode {
    if (!this.#docker) {
      checkDockerHost(process.env['DOCKER_HOST']);
      if (/^ssh:\/\//i.test(this.endpoint)) silenceUrlParseWarning();
      try {
        this.#docker = new Dockerode(localSocketOptions());
      } catch (err) {
        throw unavailable(this.endpoint, err);
      }
    }
    return this.#docker;
  }

  private async call<T>(
    what: string,
    make: (message: string, cause: unknown) => ReproromError,
    fn: (docker: Dockerode) => Promise<T>,
  ): Promise<T> {
    try {
      return await fn(this.docker);
    } catch (err) {
      throw mapEngineError(this.endpoint, what, err, make);
    }
  }

  /** A short request that must not hang on an unreachable tcp:// or ssh:// host. */
  private async bounded<T>(
    what: string,
    fn: (docker: Dockerode, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      return await fn(this.docker, signal);
    } catch (err) {
      if (signal.aborted) {
        throw unavailable(
          this.endpoint,
          Object.assign(new Error(`timeout after ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' }),
        );
      }
      const foreign = notDockerAnswer(err);
      if (foreign) throw notDocker(this.endpoint, foreign, err);
      throw mapEngineError(this.endpoint, what, err, runError);
    }
  }

  async ping(): Promise<void> {
    const answer = await this.bounded('ping', (d, abortSignal) =>
      (d.ping as (o: { abortSignal: AbortSignal }) => Promise<unknown>).call(d, { abortSignal }),
    );
    // Docker answers its ping with "OK"; an HTTP server that says 200 to everything does not.
    const text = Buffer.isBuffer(answer) ? answer.toString('utf8') : String(answer);
    if (text.trim() !== 'OK') {
      throw notDocker(this.endpoint, `its /_ping answered ${JSON.stringify(text.trim().slice(0, 40))}`);
    }
  }

  async version(): Promise<EngineVersion> {
    const v = await this.bounded('version', (d, abortSignal) =>
      (d.version as (o: { abortSignal: AbortSignal }) => Promise<Dockerode.DockerVersion>).call(d, {
        abortSignal,
      }),
    );
    if (typeof v?.Version !== 'string' || typeof v.ApiVersion !== 'string') {
      throw notDocker(this.endpoint, 'its /version answer names no Docker version');
    }
    return { version: v.Version, apiVersion: v.ApiVersion, os: v.Os, arch: v.Arch };
  }

  async loadImage(archive: string | Readable, opts: { signal?: AbortSignal } = {}): Promise<string> {
    const tarPath = typeof archive === 'string' ? archive : 'the image archive';
    const input = typeof archive === 'string' ? createReadStream(archive) : archive;
    const events = await this.call(`loading ${tarPath}`, imageError, async (d) => {
      const stream = await d.loadImage(input, { quiet: true, abortSignal: opts.signal });
      return readEvents(stream);
    });
    failOnEventError(`loading ${tarPath}`, events);
    const text = events.map((e) => e.stream ?? '').join('');
    const byId = /Loaded image ID: (sha256:[0-9a-f]{64})/.exec(text)?.[1];
    if (byId) return byId;
    // A tagged archive reports "Loaded image: repo:tag"; the ID comes from inspecting it.
    const tag = /Loaded image: (\S+)/.exec(text)?.[1];
    const info = tag ? await this.inspectImage(tag) : undefined;
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
    const events = await this.call(`importing ${repoTag}`, imageError, async (d) => {
      const input = typeof tar === 'string' ? createReadStream(tar) : tar;
      return readEvents(await d.importImage(input, { repo, tag }));
    });
    failOnEventError(`importing ${repoTag}`, events);
    const info = await this.inspectImage(repoTag);
    if (!info) throw new ImageBuildError(`importing ${repoTag}: the engine reported no image`);
    return info.id;
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    try {
      const i = await this.docker.getImage(ref).inspect();
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
      throw mapEngineError(this.endpoint, `inspecting image ${ref}`, err, imageError);
    }
  }

  async tagImage(ref: string, repoTag: string): Promise<void> {
    const { repo, tag } = splitRepoTag(repoTag);
    await this.call(`tagging ${ref} as ${repoTag}`, imageError, (d) => d.getImage(ref).tag({ repo, tag }));
  }

  async removeImage(ref: string, opts: { force?: boolean } = {}): Promise<boolean> {
    try {
      await this.docker.getImage(ref).remove({ force: opts.force ?? false });
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw mapEngineError(this.endpoint, `removing image ${ref}`, err, imageError);
    }
  }

  async createContainer(spec: RunSpec): Promise<string> {
    const options = createOptions(spec, spec.runId ?? randomUUID());
    const c = await this.call(`creating a container from ${spec.image}`, runError, (d) =>
      d.createContainer(options),
    );
    return c.id;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.call(`starting container ${short(containerId)}`, runError, (d) =>
      d.getContainer(containerId).start(),
    );
  }

  async removeContainer(containerId: string): Promise<void> {
    try {
      await this.docker.getContainer(containerId).remove({ force: true, v: true });
    } catch (err) {
      // 404: already gone; 409: removal already in progress. Both end where we want.
      const s = statusOf(err);
      if (s === 404 || s === 409) return;
      throw mapEngineError(this.endpoint, `removing container ${short(containerId)}`, err, runError);
    }
  }

  async runContainer(spec: RunSpec): Promise<RunResult> {
    spec.signal?.throwIfAborted();
    const started = Date.now();
    const runId = spec.runId ?? randomUUID();
    const id = await this.createContainer({ ...spec, runId });
    const container = this.docker.getContainer(id);
    let killedFor: 'abort' | 'timeout' | undefined;
    let timer: NodeJS.Timeout | undefined;
    let attached: NodeJS.ReadWriteStream | undefined;
    const kill = () => container.kill({ signal: 'SIGKILL' }).catch(() => undefined); // not running yet/anymore: fine
    const onAbort = () => {
      killedFor ??= 'abort';
      void kill();
    };
    try {
      const out = sink(spec.onStdoutLine, spec.stdout);
      const err = sink(spec.onStderrLine, spec.stderr);
      const interactive = spec.interactive;
      attached = await this.call('attaching to the container', runError, () =>
        container.attach({
          stream: true,
          stdout: true,
          stderr: true,
          logs: false,
          ...(interactive || spec.stdin ? { stdin: true, hijack: true } : {}),
        }),
      );
      const stream = attached;
      if (interactive) interactive.stdin.pipe(stream);
      else if (spec.stdin) spec.stdin.pipe(stream, { end: false });
      const ended = new Promise<void>((resolve) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
        stream.once('error', () => resolve());
      });
      // A TTY has one raw stream; otherwise stdout and stderr come multiplexed.
      if (interactive?.tty) stream.pipe(interactive.stdout, { end: false });
      else if (interactive) this.docker.modem.demuxStream(stream, interactive.stdout, process.stderr);
      else this.docker.modem.demuxStream(stream, out.writable, err.writable);

      if (spec.signal) {
        spec.signal.addEventListener('abort', onAbort, { once: true });
        if (spec.signal.aborted) onAbort();
      }
      if (spec.beforeStart && !killedFor) await spec.beforeStart(id);
      if (!killedFor) {
        await this.startContainer(id);
        // An abort that arrived while starting found nothing to kill: kill now.
        if (killedFor) await kill();
      }
      if (spec.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          killedFor ??= 'timeout';
          void kill();
        }, spec.timeoutMs);
      }
      const result = killedFor ? { StatusCode: 137 } : await this.waitForExit(container, ended);
      // The attach stream can trail the exit by a moment; bounded so a stuck stream cannot hang a run.
      await Promise.race([ended, delay(5000)]);
      await Promise.all([out.finish(), err.finish()]);

      if (killedFor === 'abort') throw abortReason(spec.signal);
      if (killedFor === 'timeout') throw new ContainerTimeoutError(spec.timeoutMs ?? 0);
      if (result.Error?.Message) throw new BuildFailedError(`container failed: ${result.Error.Message}`);
      // The exit state (OOM kill) is asked for while the artifacts come out.
      const inspected = container.inspect().then(
        (i) => i.State,
        () => undefined,
      );
      if (spec.afterExit) await spec.afterExit(id, result.StatusCode);
      const state = await inspected;
      return {
        containerId: id,
        runId,
        exitCode: result.StatusCode,
        durationMs: Date.now() - started,
        oomKilled: Boolean(state?.OOMKilled),
      };
    } finally {
      if (timer) clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
      destroy(attached);
      await this.removeContainer(id);
    }
  }

  /**
   * `wait` on a connection the engine dropped (engine killed or restarted) never
   * settles. The attach stream ends in that case too: after it ends, give `wait` a
   * moment, then ask the engine directly; no answer means the engine is gone (exit 3).
   */
  private async waitForExit(container: Dockerode.Container, streamEnded: Promise<void>): Promise<WaitResult> {
    const waited = this.call<WaitResult>('waiting for the container', runError, () => container.wait());
    const answered = waited.then(
      () => true,
      () => true,
    );
    // Referenced timers (unlike delay()) keep the process alive while the engine is gone;
    // they are cancelled as soon as there is an answer, so a finished run exits at once.
    const stop = new AbortController();
    const pause = (ms: number) => sleep(ms, false, { signal: stop.signal }).catch(() => false);
    const watchdog = streamEnded.then(async (): Promise<WaitResult> => {
      if (await Promise.race([answered, pause(5000)])) return waited;
      for (;;) {
        const state = await container.inspect({ abortSignal: AbortSignal.timeout(this.timeoutMs) }).then(
          (i) => i.State,
          (err: unknown) => {
            if (statusOf(err) === 404) return undefined;
            throw unavailable(this.endpoint, isConnectionError(err) ? err : lostConnection(err));
          },
        );
        if (!state)
          throw new BuildFailedError('the container disappeared while it ran', 'run the build again');
        if (!state.Running) return { StatusCode: state.ExitCode };
        // Still running with its output stream closed: keep polling; `wait` may still answer.
        if (await Promise.race([answered, pause(2000)])) return waited;
      }
    });
    try {
      return await Promise.race([waited, watchdog]);
    } finally {
      stop.abort();
    }
  }

  async putArchive(containerId: string, path: string, tar: NodeJS.ReadableStream | Buffer): Promise<void> {
    await this.call(`copying into ${short(containerId)}:${path}`, runError, async (d) => {
      const res = await d.getContainer(containerId).putArchive(tar, { path });
      // Drain the (empty) response so the socket is released.
      if (res && typeof (res as NodeJS.ReadableStream).resume === 'function')
        (res as NodeJS.ReadableStream).resume();
    });
  }

  async getArchive(containerId: string, path: string): Promise<Readable> {
    const s = await this.call(`copying out ${short(containerId)}:${path}`, runError, (d) =>
      d.getContainer(containerId).getArchive({ path }),
    );
    return s instanceof Readable ? s : Readable.from(s as AsyncIterable<Buffer>);
  }

  async listLabelled(label = ENGINE_LABEL): Promise<string[]> {
    const list = await this.call('listing containers', runError, (d) =>
      d.listContainers({ all: true, filters: { label: [label] } }),
    );
    return list.map((c) => c.Id).sort();
  }

  async removeLabelled(label = ENGINE_LABEL): Promise<number> {
    const ids = await this.listLabelled(label);
    for (const id of ids) await this.removeContainer(id);
    return ids.length;
  }

  async removeOrphans(): Promise<number> {
    const list = await this.call('listing containers', runError, (d) =>
      d.listContainers({ all: true, filters: { label: [OWNER_LABEL] } }),
    );
    // Owned by a process of this machine that no longer exists (killed, or lost its engine).
    const orphans = list.filter((c) => ownerIsGone(c.Labels?.[OWNER_LABEL]));
    for (const c of orphans) await this.removeContainer(c.Id);
    return orphans.length;
  }
}

/**
 * The engine's create request for a run: hardened by default, and labelled so that leftovers
 * can be found (ENGINE_LABEL), tied to their run (RUN_LABEL) and to the process that made them
 * (OWNER_LABEL: an orphan sweep, or a test counting only its own CLI's containers).
 */
export function createOptions(spec: RunSpec, runId: string): Dockerode.ContainerCreateOptions {
  const env = Object.entries(spec.env ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
  return {
    name: spec.name,
    Image: spec.image,
    Cmd: spec.cmd,
    Entrypoint: spec.entrypoint,
    Env: env,
    User: spec.user,
    WorkingDir: spec.workingDir,
    Hostname: spec.hostname,
    Domainname: spec.domainname,
    Labels: { ...spec.labels, [ENGINE_LABEL]: '1', [RUN_LABEL]: runId, [OWNER_LABEL]: ownerId() },
    AttachStdin: Boolean(spec.interactive || spec.stdin),
    AttachStdout: true,
    AttachStderr: true,
    Tty: spec.interactive?.tty ?? false,
    OpenStdin: Boolean(spec.interactive || spec.stdin),
    StdinOnce: Boolean(spec.interactive),
    HostConfig: {
      AutoRemove: false,
      NetworkMode: spec.network ?? 'none',
      CapDrop: spec.capDrop ?? ['ALL'],
      CapAdd: spec.capAdd,
      SecurityOpt: spec.securityOpt ?? ['no-new-privileges'],
      ReadonlyRootfs: spec.readOnlyRootfs ?? false,
      Memory: spec.memoryBytes,
      // Same as Memory: no swap on top of the limit, so a limit means the same on every host.
      MemorySwap: spec.memoryBytes,
      PidsLimit: spec.pidsLimit,
      CpusetCpus: spec.cpusetCpus,
      Tmpfs: spec.tmpfs,
      Mounts: (spec.mounts ?? []).map((m) => ({
        Type: 'bind' as const,
        Source: m.source,
        Target: m.target,
        ReadOnly: m.readOnly,
      })),
      // What identifies the host stays out of every container (hostMasks.ts).
      MaskedPaths: [...MASKED_PATHS],
      ReadonlyPaths: [...READONLY_PATHS],
      // Its own cgroup root: /proc/self/cgroup no longer carries the container's ID (cgroup v1
      // hosts). Spread in because dockerode's types lack this API 1.41 field.
      ...{ CgroupnsMode: 'private' },
    },
  };
}

/** One demux target: complete lines to `onLine`, raw bytes to `raw`. */
function sink(
  onLine: ((line: string) => void) | undefined,
  raw: NodeJS.WritableStream | undefined,
): { writable: Writable; finish: () => Promise<void> } {
  const lines = onLine ? lineWriter(onLine) : undefined;
  const writable = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw?.write(chunk);
      lines?.write(chunk);
      done();
    },
  });
  const finish = () =>
    new Promise<void>((resolve) => {
      if (!lines) return resolve();
      lines.end(resolve);
    });
  return { writable, finish };
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

function abortReason(signal: AbortSignal | undefined): Error {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r : new BuildFailedError('container run aborted');
}

function destroy(stream: NodeJS.ReadWriteStream | undefined): void {
  const s = stream as { destroy?: () => void } | undefined;
  s?.destroy?.();
}

function short(id: string): string {
  return id.slice(0, 12);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function lostConnection(cause: unknown): Error {
  return Object.assign(new Error('connection to the engine lost'), { code: 'ECONNRESET', cause });
}
