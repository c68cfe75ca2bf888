/**
 * DOCKER_HOST checked before any connection: a malformed value ("garbage", "ftp://x")
 * would otherwise be taken for a host name and fail as "no engine answers (ENOTFOUND)"
 * with a hint to start dockerd, which cannot help.
 */
import { EngineUnavailableError } from '../util/errors.js';
import { printable } from '../util/printable.js';

/** The forms docker-modem can connect to, as the hint lists them. */
export const DOCKER_HOST_FORMS =
  'unix:///PATH, tcp://HOST:PORT, http(s)://HOST:PORT or ssh://[USER@]HOST[:PORT]';

/** Why `value` is not a DOCKER_HOST reprorom can use, or undefined when it is one. */
export function dockerHostProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'it is not a URL';
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme === 'unix')
    return url.hostname === '' && url.pathname.length > 1
      ? undefined
      : 'a unix:// socket needs an absolute path (unix:///var/run/docker.sock)';
  if (!['tcp', 'http', 'https', 'ssh'].includes(scheme))
    return `${scheme}:// is not a way to reach a Docker engine`;
  return url.hostname === '' ? 'it names no host' : undefined;
}

/** Throws the one-line environment error (exit 3) for a malformed DOCKER_HOST. */
export function checkDockerHost(value: string | undefined): void {
  if (value === undefined || value === '') return;
  const problem = dockerHostProblem(value);
  if (problem)
    throw new EngineUnavailableError(
      `DOCKER_HOST=${printable(value)} is malformed: ${problem}`,
      `set DOCKER_HOST to ${DOCKER_HOST_FORMS}, or unset it for the local engine (unix:///var/run/docker.sock)`,
    );
}

/**
 * docker-modem reads ssh:// addresses with Node's legacy url.parse, which prints a DEP0170
 * deprecation warning to the user's terminal on every request. The value was checked
 * above with the WHATWG parser, so that one warning says nothing useful; others still show.
 */
export function silenceUrlParseWarning(): void {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  const isUrlParse = (args: unknown[]): boolean =>
    args.some(
      (a) =>
        a === 'DEP0170' ||
        (typeof a === 'object' && a !== null && (a as { code?: unknown }).code === 'DEP0170'),
    );
  process.emitWarning = ((...args: unknown[]) => {
    if (!isUrlParse(args)) emit(...args);
  }) as typeof process.emitWarning;
}
