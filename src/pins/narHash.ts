/**
 * `pin lock`: compute a pin's narHash (resolving a branch to its commit first)
 * and write it into the pin file, keeping the file's comments and layout.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { flakeMetadata } from '../nix/nix.js';
import { writeFileAtomic } from '../util/atomic.js';
import { ConfigError, EnvironmentError, ReproromError, UsageError } from '../util/errors.js';
import { NAME_PATTERN } from '../vocabulary/names.js';
import { parseFlakeRef } from '../workspace/flakeRef.js';

export interface LockResult {
  name: string;
  file: string;
  flake: string;
  narHash: string;
  changed: boolean;
}

export async function lockPin(workspaceRoot: string, name: string, newRef?: string): Promise<LockResult> {
  if (!NAME_PATTERN.test(name))
    throw new UsageError(`"${name}" is not a pin name`, 'pin names are file stems in pins/');
  const file = join('pins', `${name}.yaml`);
  const full = resolve(workspaceRoot, file);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch {
    throw new UsageError(
      `pin "${name}" does not exist (${file})`,
      `create ${file} with a "flake:" reference first`,
    );
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new UsageError(`${file} is not valid YAML`, `run \`reprorom check\` to see where`);
  }
  const flake = newRef ?? String(doc.get('flake') ?? '');
  if (!flake)
    throw new ConfigError([
      { file, line: 1, col: 1, message: 'missing key "flake", expected a flake reference' },
    ]);

  // A branch given on the command line is resolved to the commit it points at now.
  const fetchRef =
    flake.startsWith('path:') || flake.startsWith('./')
      ? `path:${resolve(workspaceRoot, flake.replace(/^path:/, ''))}`
      : flake;
  let meta: Awaited<ReturnType<typeof flakeMetadata>>;
  try {
    meta = await flakeMetadata(fetchRef);
  } catch (err) {
    if (fetchRef.startsWith('path:') || !(err instanceof ReproromError)) throw err;
    throw new EnvironmentError(
      `cannot fetch ${flake} to lock pin "${name}": ${err.message.split('\n')[0]}`,
      'locking a remote flake needs network access to its host; run `reprorom pin lock` on a connected machine and commit the result',
      { cause: err },
    );
  }
  let locked = flake;
  const parsed = parseFlakeRef(flake);
  if (!parsed.ok) {
    const rev = meta.locked.rev;
    const gh = /^github:([^/]+)\/([^/?]+)/.exec(flake);
    if (rev && gh) locked = `github:${gh[1]}/${gh[2]}/${rev}`;
    else if (rev && flake.startsWith('git+')) locked = `${flake.split('?')[0]}?rev=${rev}`;
    else throw new UsageError(parsed.message);
  }
  const before = `${doc.get('flake')}|${doc.get('narHash')}`;
  doc.set('flake', locked);
  doc.set('narHash', meta.locked.narHash);
  const changed = before !== `${locked}|${meta.locked.narHash}`;
  // lineWidth 0: a pin's other lines (a long description) are written back as they were, not re-wrapped.
  if (changed) await writeFileAtomic(full, doc.toString({ lineWidth: 0 }));
  return { name, file, flake: locked, narHash: meta.locked.narHash, changed };
}
