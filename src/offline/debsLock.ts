/**
 * The offline package set's lock file (pins/offline/debs.lock.json): which Debian
 * binary packages, at which version and sha256, make each flake output. The flake
 * reads the same file, so the names and hashes here are the ones nix builds with.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as z from 'zod/mini';
import { ConfigError } from '../util/errors.js';
import { SHA256_HEX } from '../util/sha256.js';
import { matching, nonEmptyString, wholeNumber } from '../util/zod.js';
import { NAR_HASH_PATTERN } from '../vocabulary/names.js';
import { STORE_NAME_PATTERN, storeNameOf } from './storePath.js';

export const LOCK_FILE = join('pins', 'offline', 'debs.lock.json');
export const RELOCK_COMMAND = 'apt-get update && npx vite-node scripts/lock-offline-debs.ts';

const debName = matching(/^[a-z0-9][a-z0-9+.-]+$/, 'expected a Debian package name');
const described = <T extends z.ZodMiniType>(schema: T, text: string): T => schema.check(z.describe(text));

export const debEntrySchema = z.strictObject({
  version: matching(/^[0-9A-Za-z.+~:-]+$/, 'expected a Debian version such as 5.2.15-2+b2'),
  arch: matching(/^[a-z0-9-]+$/, 'expected a Debian architecture such as amd64 or all'),
  filename: described(nonEmptyString(), 'File name of the .deb in the archive'),
  sha256: matching(SHA256_HEX, 'expected 64 lowercase hex digits'),
  size: wholeNumber(1),
  storeName: matching(STORE_NAME_PATTERN, 'expected a nix store name'),
});
export type DebEntry = z.output<typeof debEntrySchema>;

export const debLockSchema = z.strictObject({
  version: z.literal(1),
  distribution: described(nonEmptyString(), 'Informational: the suite the set was resolved from'),
  busybox: described(
    z.strictObject({
      deb: debName,
      path: described(nonEmptyString(), 'Path of the binary inside the deb'),
      storeName: matching(STORE_NAME_PATTERN),
      narHash: matching(NAR_HASH_PATTERN, 'expected an SRI hash sha256-…'),
    }),
    'The bootstrap tool: seeded as a store path so derivations can use it as their builder',
  ),
  sets: z.record(
    matching(/^[a-z0-9][a-z0-9-]*$/, 'expected a flake attribute name'),
    z.strictObject({
      roots: described(
        z.array(debName).check(z.minLength(1)),
        'What was asked for; re-locking resolves these',
      ),
      closure: described(
        z._default(z.boolean(), true),
        'false: only the roots (a static binary needs no dependencies)',
      ),
      debs: described(z.array(debName), 'The resolved closure: keys of "debs"'),
    }),
  ),
  debs: z.record(debName, debEntrySchema),
});
export type DebLock = z.output<typeof debLockSchema>;

export interface LockedDeb extends DebEntry {
  name: string;
}

/** Parse and cross-check a lock; every problem is reported at once. */
export function parseDebLock(text: string, file = LOCK_FILE): DebLock {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ file, line: 1, col: 1, message: `not valid JSON: ${(err as Error).message}` }]);
  }
  const parsed = debLockSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({
        file,
        line: 1,
        col: 1,
        message: `${i.path.join('.') || '(root)'}: ${i.message}`,
      })),
      `fix ${file}, or re-lock it: ${RELOCK_COMMAND}`,
    );
  }
  const lock = parsed.data;
  const problems: string[] = [];
  for (const [set, { debs }] of Object.entries(lock.sets)) {
    for (const d of debs) if (!lock.debs[d]) problems.push(`sets.${set}.debs: "${d}" has no entry in "debs"`);
  }
  if (!lock.debs[lock.busybox.deb])
    problems.push(`busybox.deb: "${lock.busybox.deb}" has no entry in "debs"`);
  for (const [name, e] of Object.entries(lock.debs)) {
    const want = storeNameOf(name, e.version, e.arch);
    if (e.storeName !== want)
      problems.push(`debs.${name}.storeName: expected "${want}", found "${e.storeName}"`);
  }
  if (problems.length > 0) {
    throw new ConfigError(
      problems.map((message) => ({ file, line: 1, col: 1, message })),
      `re-lock it: ${RELOCK_COMMAND}`,
    );
  }
  return lock;
}

export async function readDebLock(workspaceRoot: string): Promise<DebLock> {
  const full = resolve(workspaceRoot, LOCK_FILE);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch {
    throw new ConfigError(
      [{ file: LOCK_FILE, line: 1, col: 1, message: 'missing lock file of the offline package set' }],
      `create it: ${RELOCK_COMMAND}`,
    );
  }
  return parseDebLock(text, LOCK_FILE);
}

/** All locked debs, sorted by name (one entry per deb even when several sets use it). */
export function lockedDebs(lock: DebLock): LockedDeb[] {
  return Object.keys(lock.debs)
    .sort()
    .map((name) => ({ name, ...(lock.debs[name] as DebEntry) }));
}
