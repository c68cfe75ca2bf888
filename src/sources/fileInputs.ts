/**
 * Pinned files a board takes as inputs (a URL or a Debian binary package): downloaded into
 * the cache under their sha256 and hashed again on every use, as tarball sources are.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { aptPoolFolders, aptUpdateForeign, isForeignArch } from '../offline/apt.js';
import { debianFileName } from '../offline/fetch.js';
import { cacheDir } from '../util/paths.js';
import { sha256File } from '../util/sha256.js';
import type { BoardInput } from '../workspace/schema.js';
import { downloadVerified } from './download.js';
import { SourceError } from './errors.js';

export type FileInput = Exclude<BoardInput, { type: 'board' }>;

export interface FetchedInput {
  /** The verified file in the cache. */
  file: string;
  sha256: string;
  size: number;
}

/** What a file input is, for messages: the URL or `package version (arch)`. */
export function describeFileInput(input: FileInput): string {
  return input.type === 'url' ? input.url : `${input.package} ${input.version} (${input.arch})`;
}

/**
 * `workspaceRoot`: the only folder a `file:` URL input may name a file in (default: the
 * current folder, as for local sources).
 */
export async function fetchFileInput(
  input: FileInput,
  signal?: AbortSignal,
  workspaceRoot = '.',
): Promise<FetchedInput> {
  const dest = join(cacheDir(), 'inputs', input.sha256);
  if (input.type === 'url') {
    await downloadVerified(input.url, input.sha256, dest, {
      files: { within: workspaceRoot },
      ...(signal ? { signal } : {}),
    });
  } else {
    await fetchDeb(input, dest, signal);
  }
  return { file: dest, sha256: input.sha256, size: (await stat(dest)).size };
}

/** From the cache when its hash still matches, else from a pool folder apt knows for the package. */
async function fetchDeb(
  input: Extract<FileInput, { type: 'debian' }>,
  dest: string,
  signal?: AbortSignal,
): Promise<void> {
  if (
    await sha256File(dest).then(
      (h) => h === input.sha256,
      () => false,
    )
  )
    return;
  const filename = debianFileName({ name: input.package, version: input.version, arch: input.arch });
  // Another architecture's indexes live in reprorom's cache: fetched on first use, and once
  // more when no folder they know served the file at all (a newer upload moved it, say);
  // a file served with another sha256 is the answer, not a stale index.
  const foreign = isForeignArch(input.arch);
  if (foreign) await aptUpdateForeign(input.arch, { onlyIfMissing: true, ...(signal ? { signal } : {}) });
  const failures: string[] = [];
  let served = false;
  const tryFolders = async (): Promise<boolean> => {
    for (const folder of await aptPoolFolders(input.package, signal, input.arch)) {
      try {
        // apt's own (local) mirrors: the folder comes from apt's configuration, not the board.
        await downloadVerified(`${folder}${encodeURIComponent(filename)}`, input.sha256, dest, {
          files: 'apt',
          ...(signal ? { signal } : {}),
        });
        return true;
      } catch (err) {
        signal?.throwIfAborted();
        const message = err instanceof Error ? err.message : String(err);
        served ||= message.startsWith('sha256 mismatch');
        failures.push(message);
      }
    }
    return false;
  };
  if (await tryFolders()) return;
  if (foreign && !served) {
    await aptUpdateForeign(input.arch, signal ? { signal } : {});
    if (await tryFolders()) return;
  }
  throw new SourceError(
    `cannot fetch the Debian package ${describeFileInput(input)} (${filename})${failures.length ? `: ${failures.join('; ')}` : ': apt knows no archive folder for it'}`,
    'run apt-get update, check the package name and version, or give the file as a url input',
  );
}
