/**
 * The engine port: the types every layer above takes, and nothing that talks to an engine.
 * The Docker adapter (docker.ts) and the tests' fake engine both implement `Engine`.
 */

import type { Readable } from 'node:stream';
import { BuildFailedError } from '../util/errors.js';
import { ownerId } from '../util/owner.js';

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
