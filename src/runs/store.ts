/**
 * A content-addressed store of producer runs: a run folder kept under the sha256 of
 * everything that determines its bytes (board definition, source tree hash, inputs' sha256,
 * image ID, the run's variation, tool version). A shard that needs a producer another shard
 * already built restores it from here instead of building it again (in CI the folder is the
 * platform's cache). A store folder comes from elsewhere: an entry is read as hostile input
 * (no link followed, sizes capped, every byte checked against its record after the copy),
 * and one that fails a check is refused with its reason, never used. Entries are written to
 * a temporary folder and renamed into place, so a reader sees a whole entry or none.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  copyForeignFolder,
  foreignEntry,
  readForeignFile,
  walkForeignFolder,
} from '../archive/foreignFolder.js';
import { formatHashesTxt, HASHES_FILE } from '../hashes/hashesTxt.js';
import { MAX_INPUT_BYTES } from '../hashes/limits.js';
import { MANIFEST_FILE, type Manifest, parseManifest, writeManifest } from '../hashes/runManifest.js';
import { canonicalJson } from '../image/digest.js';
import type { Variation } from '../plan/variations.js';
import { PROVENANCE_FILE } from '../provenance/statement.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UsageError } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { SHA256_HEX, sha256Bytes, sha256File } from '../util/sha256.js';
import type { Board } from '../workspace/schema.js';

export const STORE_KEY_SCHEMA = 'reprorom.store-key/v1';
const ENTRY_SCHEMA = 'reprorom.store-entry/v1';
const ENTRY_FILE = 'entry.json';
const RUN_FOLDER = 'run';
/** entry.json holds the key's fields: a board definition and a few hashes, far below this. */
const MAX_ENTRY_BYTES = 1024 * 1024;

/** Everything that determines a run's bytes; its canonical JSON's sha256 is the store key. */
export interface StoreKeyFields {
  schema: typeof STORE_KEY_SCHEMA;
  tool: string;
  board: string;
  definition: Board;
  image: string;
  pins: string[];
  source: string;
  sourceDateEpoch: number;
  inputs: Array<{ path: string; sha256: string }>;
  index: number;
  variation: Variation;
  /** Which variations are on: fileordering on also changes where /build lives (a tmpfs). */
  varyOn: string[];
}

export function storeKey(fields: StoreKeyFields): string {
  return sha256Bytes(canonicalJson(fields));
}

/** `STORE/v1/KEY`: the version in the path, so a later layout never reads an older one. */
function entryDir(store: string, key: string): string {
  return join(store, 'v1', key);
}

export type RestoreResult =
  | { kind: 'restored'; manifest: Manifest }
  | { kind: 'missing' }
  | { kind: 'refused'; reason: string };

/** Thrown inside a restore for an entry that fails a check: its reason, refused. */
class EntryRefused extends Error {}

const refuse = (reason: string): never => {
  throw new EntryRefused(reason);
};

/**
 * The entry `key` copied to `outDir` (which must not exist) as this build's run folder, its
 * manifest saying `run.restored`; or why not. A refused entry leaves nothing at `outDir`.
 */
export async function restoreRun(
  store: string,
  key: string,
  fields: StoreKeyFields,
  outDir: string,
): Promise<RestoreResult> {
  const dir = entryDir(store, key);
  const tmp = `${outDir}.restore-${randomBytes(4).toString('hex')}`;
  try {
    if ((await foreignEntry(dir)) === undefined) return { kind: 'missing' };
    const entryBytes = await readForeignFile(join(dir, ENTRY_FILE), MAX_ENTRY_BYTES);
    if (entryBytes === undefined) refuse(`${ENTRY_FILE} is larger than ${MAX_ENTRY_BYTES} bytes`);
    const entry = parseEntry(entryBytes as Buffer);
    if (
      entry.key !== key ||
      storeKey(entry.fields) !== key ||
      canonicalJson(entry.fields) !== canonicalJson(fields)
    )
      refuse(`${ENTRY_FILE} records another key than the one it is stored under`);
    // Copied first (links, FIFOs and devices refused by name), then checked on our own copy:
    // what is checked is what is used, even if the store changes meanwhile.
    await mkdir(dirname(outDir), { recursive: true });
    await copyForeignFolder(join(dir, RUN_FOLDER), tmp);
    const manifest = await checkCopy(tmp, entry.manifestSha256, fields);
    const restored: Manifest = { ...manifest, run: { ...manifest.run, restored: { key } } };
    await writeManifest(tmp, restored);
    await rename(tmp, outDir);
    return { kind: 'restored', manifest: restored };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (err instanceof EntryRefused) return { kind: 'refused', reason: err.message };
    // A link, FIFO, device or missing file in the entry: the foreign-folder reader names it.
    if (err instanceof UsageError) return { kind: 'refused', reason: printable(err.message) };
    throw err;
  }
}

interface Entry {
  key: string;
  fields: StoreKeyFields;
  manifestSha256: string;
}

function parseEntry(bytes: Buffer): Entry {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return refuse(`${ENTRY_FILE} is not JSON`);
  }
  const e = value as Partial<Record<keyof Entry | 'schema', unknown>>;
  if (
    typeof value !== 'object' ||
    value === null ||
    e.schema !== ENTRY_SCHEMA ||
    typeof e.key !== 'string' ||
    !SHA256_HEX.test(e.key) ||
    typeof e.manifestSha256 !== 'string' ||
    !SHA256_HEX.test(e.manifestSha256) ||
    typeof e.fields !== 'object' ||
    e.fields === null
  )
    return refuse(`${ENTRY_FILE} is not a ${ENTRY_SCHEMA} record`);
  return e as Entry;
}

/** The copied run folder holds exactly what its manifest lists, with the bytes it records. */
async function checkCopy(dir: string, manifestSha256: string, fields: StoreKeyFields): Promise<Manifest> {
  const bytes = await readForeignFile(join(dir, MANIFEST_FILE), MAX_INPUT_BYTES);
  if (bytes === undefined) return refuse(`${MANIFEST_FILE} is larger than ${MAX_INPUT_BYTES} bytes`);
  const actual = sha256Bytes(bytes);
  if (actual !== manifestSha256)
    refuse(`${MANIFEST_FILE} has sha256 ${actual}, the entry recorded ${manifestSha256}`);
  let manifest: Manifest;
  try {
    manifest = parseManifest(bytes.toString('utf8'), MANIFEST_FILE);
  } catch {
    return refuse(`${MANIFEST_FILE} is not a valid run manifest`);
  }
  const wrong =
    manifest.board !== fields.board
      ? 'board'
      : manifest.run.index !== fields.index
        ? 'run index'
        : manifest.image.id !== fields.image
          ? 'image ID'
          : manifest.source.hash !== fields.source
            ? 'source hash'
            : manifest.result !== 'ok' || manifest.run.restored || manifest.run.culpritSearch
              ? 'result'
              : undefined;
  if (wrong) refuse(`${MANIFEST_FILE} has another ${wrong} than the key's`);
  for (const a of manifest.artifacts) {
    const got = await sha256File(join(dir, a.path)).catch(() => 'missing');
    if (got !== a.sha256)
      refuse(`${printable(a.path)} has sha256 ${got}, the manifest records ${a.sha256} (hash mismatch)`);
  }
  const hashes = await readForeignFile(join(dir, HASHES_FILE), MAX_INPUT_BYTES);
  if (hashes?.toString('utf8') !== formatHashesTxt(manifest.artifacts))
    refuse(`${HASHES_FILE} does not list the manifest's artifacts`);
  const expected = new Set([
    MANIFEST_FILE,
    HASHES_FILE,
    PROVENANCE_FILE,
    ...manifest.artifacts.map((a) => a.path),
  ]);
  for (const f of (await walkForeignFolder(dir)).files)
    if (!expected.has(f)) refuse(`it holds ${printable(f)}, which its manifest does not list`);
  return manifest;
}

/**
 * Keep the run folder `runDir` as the entry `key`. Written beside the entries and renamed into
 * place; an entry already there is kept when it passes the checks (another shard wrote the same
 * bytes), and replaced when it does not (the caller rebuilt because it was refused).
 */
export async function saveRun(
  store: string,
  key: string,
  fields: StoreKeyFields,
  runDir: string,
  replace: boolean,
): Promise<'saved' | 'kept'> {
  const dir = entryDir(store, key);
  if (!replace && (await foreignEntry(dir).catch(() => 'other')) !== undefined) return 'kept';
  const tmp = join(dirname(dir), `.tmp-${key.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  const old = `${tmp}.old`;
  try {
    await copyForeignFolder(runDir, join(tmp, RUN_FOLDER));
    const manifest = await readForeignFile(join(tmp, RUN_FOLDER, MANIFEST_FILE), MAX_INPUT_BYTES);
    if (manifest === undefined) throw new Error(`${MANIFEST_FILE} of ${runDir} is too large to store`);
    const entry = { schema: ENTRY_SCHEMA, key, fields, manifestSha256: sha256Bytes(manifest) };
    await writeFileAtomic(join(tmp, ENTRY_FILE), `${canonicalJson(entry, 2)}\n`);
    if (replace) await rename(dir, old).catch(() => undefined);
    try {
      await rename(tmp, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another shard renamed its entry in first: the same key, so the same content.
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return 'kept';
      throw err;
    }
    return 'saved';
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
}
