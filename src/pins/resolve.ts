/**
 * Turns a pin from the workspace into a locked flake input, checking that the
 * content still has the pinned narHash. Nothing unpinned gets past this point.
 */
import { resolve as resolvePath } from 'node:path';
import { flakeMetadata } from '../nix/nix.js';
import { ConfigError, EnvironmentError, ReproromError } from '../util/errors.js';
import { type FlakeRef, parseFlakeRef } from '../workspace/flakeRef.js';
import type { Pin } from '../workspace/schema.js';
import type { Entry } from '../workspace/types.js';

export interface LockedPin {
  name: string;
  pin: Pin;
  ref: FlakeRef;
  narHash: string;
  /** The flake input as it goes into a rendered flake.nix / flake.lock. */
  input: { url: string; locked: Record<string, string | number> };
}

/** Where nix should read the pin from right now (a local path is made absolute). */
export function fetchUrlOf(root: string, ref: FlakeRef): string {
  return ref.kind === 'path' ? `path:${resolvePath(root, ref.path)}` : ref.url;
}

export function refOf(entry: Entry<Pin>): FlakeRef {
  const parsed = parseFlakeRef(entry.value.flake);
  if (!parsed.ok) {
    const { line, col } = entry.parsed.at(['flake']);
    throw new ConfigError([{ file: entry.file, line, col, message: parsed.message }]);
  }
  return parsed.ref;
}

/** Hash the pin's current content with nix. Local flakes are copied into the store by this. */
export async function hashPin(
  root: string,
  entry: Entry<Pin>,
): Promise<{ narHash: string; storePath: string; rev?: string }> {
  const ref = refOf(entry);
  try {
    const meta = await flakeMetadata(fetchUrlOf(root, ref));
    return {
      narHash: meta.locked.narHash,
      storePath: meta.path,
      ...(meta.locked.rev ? { rev: meta.locked.rev } : {}),
    };
  } catch (err) {
    if (err instanceof ReproromError && ref.kind !== 'path') {
      throw new EnvironmentError(
        `cannot fetch pin "${entry.name}" (${ref.url}): ${err.message.split('\n')[0]}`,
        'this pin needs network access to github or its git host; on an air-gapped machine use the offline pin (pins/offline.yaml)',
        { cause: err },
      );
    }
    throw err;
  }
}

/** Verify the pin's content against its narHash and return the locked input. */
export async function lockedPin(root: string, entry: Entry<Pin>): Promise<LockedPin> {
  const name = entry.name;
  const ref = refOf(entry);
  const actual = await hashPin(root, entry);
  if (actual.narHash !== entry.value.narHash) {
    const { line, col } = entry.parsed.at(['narHash']);
    throw new ConfigError(
      [
        {
          file: entry.file,
          line,
          col,
          message: `pin "${name}" content has narHash ${actual.narHash}, but the pin says ${entry.value.narHash}; expected them to match`,
        },
      ],
      `if the change is intended, run \`reprorom pin lock ${name}\`; otherwise restore the pinned content`,
    );
  }
  return {
    name,
    pin: entry.value,
    ref,
    narHash: actual.narHash,
    input: inputFor(ref, actual.storePath, actual.narHash),
  };
}

/**
 * Local flakes are referenced through their content-addressed store copy, so the
 * rendered flake is the same text in every checkout folder and on every machine.
 */
function inputFor(ref: FlakeRef, storePath: string, narHash: string): LockedPin['input'] {
  switch (ref.kind) {
    case 'path':
      return { url: `path:${storePath}`, locked: { type: 'path', path: storePath, narHash } };
    case 'github':
      return {
        url: `github:${ref.owner}/${ref.repo}/${ref.rev}`,
        locked: { type: 'github', owner: ref.owner, repo: ref.repo, rev: ref.rev, narHash },
      };
    case 'git': {
      const bare = ref.url.replace(/^git\+/, '').split('?')[0] ?? '';
      return { url: ref.url, locked: { type: 'git', url: bare, rev: ref.rev, narHash } };
    }
    case 'tarball':
      return { url: ref.url, locked: { type: 'tarball', url: ref.url.replace(/^tarball\+/, ''), narHash } };
  }
}
