/**
 * The container lifecycle on a Docker engine. Run sequence (DESIGN.md): create (labelled,
 * hardened) → attach → demux → start → wait → remove in `finally`. Never AutoRemove: a fast
 * container could vanish before `wait` sees it.
 */

import { randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { BuildFailedError } from '../util/errors.js';
import { ownerIsGone } from '../util/owner.js';
import { type DockerConnection, runError } from './connection.js';
import { isConnectionError, statusOf, unavailable } from './errors.js';
import { createOptions } from './hardening.js';
import { lineWriter } from './lines.js';
import { ContainerTimeoutError, ENGINE_LABEL, OWNER_LABEL, type RunResult, type RunSpec } from './port.js';

interface WaitResult {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

/** The attach stream of a running container and the line sinks its output is demuxed into. */
interface Attached {
  stream: NodeJS.ReadWriteStream;
  ended: Promise<void>;
  finish: () => Promise<void>;
}

export class DockerContainers {
  constructor(private readonly conn: DockerConnection) {}

  async create(spec: RunSpec): Promise<string> {
    const options = createOptions(spec, spec.runId ?? randomUUID());
    const c = await this.conn.call(`creating a container from ${spec.image}`, runError, (d) =>
      d.createContainer(options),
    );
    return c.id;
  }

  async start(containerId: string): Promise<void> {
    await this.conn.call(`starting container ${short(containerId)}`, runError, (d) =>
      d.getContainer(containerId).start(),
    );
  }

  async remove(containerId: string): Promise<void> {
    try {
      await this.conn.docker.getContainer(containerId).remove({ force: true, v: true });
    } catch (err) {
      // 404: already gone; 409: removal already in progress. Both end where we want.
      const s = statusOf(err);
      if (s === 404 || s === 409) return;
      throw this.conn.mapError(`removing container ${short(containerId)}`, err, runError);
    }
  }

  async run(spec: RunSpec): Promise<RunResult> {
    spec.signal?.throwIfAborted();
    const started = Date.now();
    const runId = spec.runId ?? randomUUID();
    const id = await this.create({ ...spec, runId });
    const container = this.conn.docker.getContainer(id);
    let killedFor: 'abort' | 'timeout' | undefined;
    let timer: NodeJS.Timeout | undefined;
    let attached: Attached | undefined;
    const kill = () => container.kill({ signal: 'SIGKILL' }).catch(() => undefined); // not running yet/anymore: fine
    const onAbort = () => {
      killedFor ??= 'abort';
      void kill();
    };
    try {
      attached = await this.attach(container, spec);
      if (spec.signal) {
        spec.signal.addEventListener('abort', onAbort, { once: true });
        if (spec.signal.aborted) onAbort();
      }
      if (spec.beforeStart && !killedFor) await spec.beforeStart(id);
      if (!killedFor) {
        await this.start(id);
        // An abort that arrived while starting found nothing to kill: kill now.
        if (killedFor) await kill();
      }
      if (spec.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          killedFor ??= 'timeout';
          void kill();
        }, spec.timeoutMs);
      }
      const result = killedFor ? { StatusCode: 137 } : await this.waitForExit(container, attached.ended);
      // The attach stream can trail the exit by a moment; bounded so a stuck stream cannot hang a run.
      await Promise.race([attached.ended, delay(5000)]);
      await attached.finish();

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
      const durationMs = Date.now() - started;
      return {
        containerId: id,
        runId,
        exitCode: result.StatusCode,
        durationMs,
        oomKilled: Boolean(state?.OOMKilled),
      };
    } finally {
      if (timer) clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
      destroy(attached?.stream);
      await this.remove(id);
    }
  }

  /** Attach before start, so no output is lost; stdin and a person's terminal go in here too. */
  private async attach(container: Dockerode.Container, spec: RunSpec): Promise<Attached> {
    const out = sink(spec.onStdoutLine, spec.stdout);
    const err = sink(spec.onStderrLine, spec.stderr);
    const interactive = spec.interactive;
    const stream = await this.conn.call('attaching to the container', runError, () =>
      container.attach({
        stream: true,
        stdout: true,
        stderr: true,
        logs: false,
        ...(interactive || spec.stdin ? { stdin: true, hijack: true } : {}),
      }),
    );
    if (interactive) interactive.stdin.pipe(stream);
    else if (spec.stdin) spec.stdin.pipe(stream, { end: false });
    const ended = new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    // A TTY has one raw stream; otherwise stdout and stderr come multiplexed.
    const modem = this.conn.docker.modem;
    if (interactive?.tty) stream.pipe(interactive.stdout, { end: false });
    else if (interactive) modem.demuxStream(stream, interactive.stdout, process.stderr);
    else modem.demuxStream(stream, out.writable, err.writable);
    return { stream, ended, finish: async () => void (await Promise.all([out.finish(), err.finish()])) };
  }

  /**
   * `wait` on a connection the engine dropped (engine killed or restarted) never
   * settles. The attach stream ends in that case too: after it ends, give `wait` a
   * moment, then ask the engine directly; no answer means the engine is gone (exit 3).
   */
  private async waitForExit(container: Dockerode.Container, streamEnded: Promise<void>): Promise<WaitResult> {
    const waited = this.conn.call<WaitResult>('waiting for the container', runError, () => container.wait());
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
        const state = await container.inspect({ abortSignal: AbortSignal.timeout(this.conn.timeoutMs) }).then(
          (i) => i.State,
          (err: unknown) => {
            if (statusOf(err) === 404) return undefined;
            throw unavailable(this.conn.endpoint, isConnectionError(err) ? err : lostConnection(err));
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
    await this.conn.call(`copying into ${short(containerId)}:${path}`, runError, async (d) => {
      const res = await d.getContainer(containerId).putArchive(tar, { path });
      // Drain the (empty) response so the socket is released.
      if (res && typeof (res as NodeJS.ReadableStream).resume === 'function')
        (res as NodeJS.ReadableStream).resume();
    });
  }

  async getArchive(containerId: string, path: string): Promise<Readable> {
    const s = await this.conn.call(`copying out ${short(containerId)}:${path}`, runError, (d) =>
      d.getContainer(containerId).getArchive({ path }),
    );
    return s instanceof Readable ? s : Readable.from(s as AsyncIterable<Buffer>);
  }

  async listLabelled(label = ENGINE_LABEL): Promise<string[]> {
    const list = await this.conn.call('listing containers', runError, (d) =>
      d.listContainers({ all: true, filters: { label: [label] } }),
    );
    return list.map((c) => c.Id).sort();
  }

  async removeLabelled(label = ENGINE_LABEL): Promise<number> {
    const ids = await this.listLabelled(label);
    for (const id of ids) await this.remove(id);
    return ids.length;
  }

  async removeOrphans(): Promise<number> {
    const list = await this.conn.call('listing containers', runError, (d) =>
      d.listContainers({ all: true, filters: { label: [OWNER_LABEL] } }),
    );
    // Owned by a process of this machine that no longer exists (killed, or lost its engine).
    const orphans = list.filter((c) => ownerIsGone(c.Labels?.[OWNER_LABEL]));
    for (const c of orphans) await this.remove(c.Id);
    return orphans.length;
  }
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
