/**
 * Turns dockerode / docker-modem failures into the project's typed errors, so callers
 * never see a raw socket error or an HTTP status object.
 */
import { EngineUnavailableError, type ReproromError } from '../util/errors.js';

/** What to run when no engine answers; printed as the error's hint and by `reprorom doctor`. */
export const START_ENGINE_HINT =
  'start it: dockerd > /var/log/dockerd.log 2>&1 & (install it first if missing: apt-get install -y docker.io)';

/** An engine on another machine (`tcp://`, `ssh://`, `http(s)://`): starting a local dockerd cannot help. */
export function isRemoteEndpoint(endpoint: string): boolean {
  return /^(tcp|ssh|https?):\/\//i.test(endpoint);
}

/** What to check when a remote engine does not answer. */
export function remoteEngineHint(endpoint: string): string {
  return `the engine is on another machine: check that it runs there and that ${endpoint} is reachable from here (address, port, firewall, ssh access), or unset DOCKER_HOST to use a local engine`;
}

const CONNECTION_CODES = new Set([
  'ENOENT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EACCES',
  'EPERM',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

interface ErrorFields {
  code?: unknown;
  statusCode?: unknown;
  reason?: unknown;
  json?: unknown;
  message?: unknown;
  name?: unknown;
}

function fields(err: unknown): ErrorFields {
  return typeof err === 'object' && err !== null ? (err as ErrorFields) : {};
}

/** The HTTP status the engine answered with, when it answered at all. */
export function statusOf(err: unknown): number | undefined {
  const s = fields(err).statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** True for "nothing is listening / not allowed / too slow": the engine itself is unreachable. */
export function isConnectionError(err: unknown): boolean {
  const f = fields(err);
  if (typeof f.code === 'string' && CONNECTION_CODES.has(f.code)) return true;
  return (
    typeof f.message === 'string' && /^(connect |timeout|socket hang up)|Timeout of \d+ms/i.test(f.message)
  );
}

/** The engine's own message (`{"message": "..."}` body) or the error's message, on one line. */
export function engineMessage(err: unknown): string {
  const f = fields(err);
  const json = f.json as { message?: unknown } | null | undefined;
  if (json && typeof json === 'object' && typeof json.message === 'string') return json.message.trim();
  const msg = typeof f.message === 'string' ? f.message : String(err);
  // docker-modem prefixes "(HTTP code 404) no such container - " — keep the useful tail.
  return (
    msg
      .replace(/^\(HTTP code \d+\)\s*/, '')
      .split('\n')[0]
      ?.trim() ?? msg
  );
}

export function unavailable(endpoint: string, err: unknown): EngineUnavailableError {
  const code = fields(err).code;
  if (code === 'EACCES' || code === 'EPERM') {
    return new EngineUnavailableError(
      `permission denied on the Docker engine at ${endpoint}`,
      'run as root or add your user to the docker group: usermod -aG docker $USER',
      { cause: err },
    );
  }
  if (code === 'ETIMEDOUT') {
    return new EngineUnavailableError(
      `the Docker engine at ${endpoint} did not answer in time (timeout)`,
      isRemoteEndpoint(endpoint)
        ? remoteEngineHint(endpoint)
        : 'check that the engine is running and not overloaded, and that DOCKER_HOST points at it',
      { cause: err },
    );
  }
  const why = typeof code === 'string' ? code : engineMessage(err);
  const hint = isRemoteEndpoint(endpoint) ? remoteEngineHint(endpoint) : START_ENGINE_HINT;
  return new EngineUnavailableError(`no Docker engine answers at ${endpoint} (${why})`, hint, {
    cause: err,
  });
}

/** The hint of an endpoint that answers but is not a Docker engine (doctor shows it as is). */
export const NOT_DOCKER_HINT =
  "point DOCKER_HOST at a Docker engine's socket or port (unix:///var/run/docker.sock, tcp://HOST:2375, ssh://USER@HOST), or unset it for the local engine; then run reprorom doctor";

/**
 * Something answered, but not as Docker does: an HTTP server (any status without Docker's
 * `{"message": …}` body), or a non-HTTP service such as SSH (Node's parser fails, `HPE_*`).
 */
export function notDockerAnswer(err: unknown): string | undefined {
  const f = fields(err);
  if (typeof f.code === 'string' && f.code.startsWith('HPE_')) return 'its answer is not HTTP';
  const status = statusOf(err);
  if (status === undefined) return undefined;
  const json = f.json as { message?: unknown } | null | undefined;
  if (json && typeof json === 'object' && typeof json.message === 'string') return undefined; // Docker's own error
  const body = typeof json === 'string' ? json : Buffer.isBuffer(json) ? json.toString('utf8') : '';
  // Printable ASCII only: the body is a stranger's, and must not reach the terminal raw.
  const start = body
    .replace(/[^\x21-\x7e]+/g, ' ')
    .trim()
    .slice(0, 24);
  return `HTTP ${status}${start ? `, body starting ${start}` : ''}`;
}

export function notDocker(endpoint: string, why: string, cause?: unknown): EngineUnavailableError {
  const who = process.env['DOCKER_HOST'] ? `DOCKER_HOST=${endpoint}` : endpoint;
  return new EngineUnavailableError(`${who} answers but is not a Docker engine (${why})`, NOT_DOCKER_HINT, {
    cause,
  });
}

/** Map any engine failure: connection problems → EngineUnavailableError, the rest → `make(message)`. */
export function mapEngineError(
  endpoint: string,
  what: string,
  err: unknown,
  make: (message: string, cause: unknown) => ReproromError,
): Error {
  if (isConnectionError(err)) return unavailable(endpoint, err);
  if (err instanceof Error && (err as { exitCode?: unknown }).exitCode !== undefined) return err; // already typed
  return make(`${what}: ${engineMessage(err)}`, err);
}
