/**
 * The connection to a Docker engine: where it is, the dockerode client made on first use,
 * and the two ways a request's failure becomes one of the project's errors.
 */

import { Agent, type AgentOptions } from 'node:http';
import { inspect } from 'node:util';
import Dockerode from 'dockerode';
import { BuildFailedError, ImageBuildError, type ReproromError } from '../util/errors.js';
import { checkDockerHost, silenceUrlParseWarning } from './dockerHost.js';
import { mapEngineError, notDocker, notDockerAnswer, unavailable } from './errors.js';

export type ErrorMaker = (message: string, cause: unknown) => ReproromError;

export const imageError: ErrorMaker = (message, cause) => new ImageBuildError(message, undefined, { cause });
export const runError: ErrorMaker = (message, cause) => new BuildFailedError(message, undefined, { cause });

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

export class DockerConnection {
  readonly endpoint = engineEndpoint();
  #docker: Dockerode | undefined;

  constructor(readonly timeoutMs: number) {}

  /** Lazy, so a malformed DOCKER_HOST surfaces as EngineUnavailableError on first use, not at import. */
  get docker(): Dockerode {
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

  /** A request whose failure is mapped to `make`'s error (or to "engine unavailable"). */
  async call<T>(what: string, make: ErrorMaker, fn: (docker: Dockerode) => Promise<T>): Promise<T> {
    try {
      return await fn(this.docker);
    } catch (err) {
      throw this.mapError(what, err, make);
    }
  }

  mapError(what: string, err: unknown, make: ErrorMaker): Error {
    return mapEngineError(this.endpoint, what, err, make);
  }

  /** A short request that must not hang on an unreachable tcp:// or ssh:// host. */
  async bounded<T>(what: string, fn: (docker: Dockerode, signal: AbortSignal) => Promise<T>): Promise<T> {
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
      throw this.mapError(what, err, runError);
    }
  }
}
