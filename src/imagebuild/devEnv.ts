/**
 * The environment `nix develop` would give, made fit for an image: only exported
 * variables, minus the ones that vary per build or leak the host (nix 2.8 mixes
 * in build temp folders, core counts, the host's TERM, …).
 */
import { nixJson } from '../nix/nix.js';

interface DevEnvJson {
  variables: Record<string, { type: string; value?: unknown }>;
}

/** Values nix sets for its own build sandbox or copies from the caller: never part of an image. */
const VOLATILE = new Set([
  'HOME',
  'TERM',
  'TMP',
  'TEMP',
  'TMPDIR',
  'TEMPDIR',
  'PWD',
  'OLDPWD',
  'SHLVL',
  'NIX_BUILD_TOP',
  'NIX_BUILD_CORES',
  'NIX_LOG_FD',
  'NIX_SSL_CERT_FILE',
  'SSL_CERT_FILE',
  'SOURCE_DATE_EPOCH',
  'out',
  'outputs',
  'shellHook',
  'dontAddDisableDepTrack',
]);

/** Keep what a shell started by `nix develop` would export, as sorted KEY=VALUE strings. */
export function filterDevEnv(json: DevEnvJson): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, v] of Object.entries(json.variables)) {
    if (v.type !== 'exported' || typeof v.value !== 'string') continue;
    if (VOLATILE.has(key) || key.startsWith('NIX_BUILD_') || key.startsWith('EPOCH')) continue;
    env[key] = v.value;
  }
  return env;
}

export async function printDevEnv(
  flakeDir: string,
  attr: string,
  signal?: AbortSignal,
): Promise<Record<string, string>> {
  // The signal stops nix (and the builds it runs for the environment) on Ctrl-C, so no build
  // goes on after reprorom has exited.
  const json = await nixJson<DevEnvJson>(
    ['print-dev-env', '--no-update-lock-file', `path:${flakeDir}#${attr}`],
    signal ? { signal } : {},
  );
  return filterDevEnv(json);
}

/** Store paths mentioned anywhere in the environment: the roots of the image's closure. */
export function storePathsIn(env: Record<string, string>): string[] {
  const found = new Set<string>();
  for (const value of Object.values(env)) {
    for (const m of value.matchAll(/\/nix\/store\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+/g))
      found.add(m[0]);
  }
  return [...found].sort();
}
