/**
 * What can be checked of a release without building anything: signatures (detached
 * ones and the DSSE envelopes of the provenance), the folder against its signed lists,
 * the provenance against the manifest, and a downloaded ROM against the signed hashes.
 * No workspace, engine or nix: `verify --no-rebuild` is this alone, and the full
 * `verify` starts with it.
 */
import { basename, join } from 'node:path';
import { baseName } from '../hashes/artifactPath.js';
import { formatHashesTxt, parseHashesTxt, readText } from '../hashes/hashesTxt.js';
import { MAX_INPUT_BYTES } from '../hashes/limits.js';
import { type DescribedBuild, jsonDifferences, parseProvenance } from '../provenance/parse.js';
import { UsageError } from '../util/errors.js';
import { IrregularFileError, readRegularFile, sha256RegularFile } from '../util/regularFile.js';
import { sha256Bytes } from '../util/sha256.js';
import { envelopePath, verifyEnvelope } from './dsse.js';
import { otherFormatSignatures, unlistedFiles } from './releaseFiles.js';
import {
  parseReleaseManifest,
  RELEASE_HASHES,
  RELEASE_MANIFEST,
  type ReleaseBoard,
  type ReleaseManifest,
  signedFiles,
} from './releaseManifest.js';
import type { SignatureCheck, Verifier } from './signature.js';

export interface Check {
  name: string;
  ok: boolean;
  message: string;
}

/** The error when it says what a file is instead of a regular one; anything else is rethrown. */
function irregular(err: unknown): IrregularFileError {
  if (err instanceof IrregularFileError) return err;
  throw err;
}

/**
 * A document of the release folder (hashes, provenance, envelope) under the size cap, or
 * undefined when it is missing or not a regular file (the caller names it as missing).
 */
async function readReleaseFile(path: string): Promise<Buffer | undefined> {
  return readRegularFile(path, { followLinks: false, max: MAX_INPUT_BYTES }).catch((err: unknown) => {
    irregular(err);
    return undefined;
  });
}

export const ok = (name: string, message: string): Check => ({ name, ok: true, message });
export const fail = (name: string, message: string): Check => ({ name, ok: false, message });

/**
 * The folder holds exactly the bytes its signed lists name. `uses`: per released file, the
 * boards of the release built with it (`input payloads/seabios.elf of coreboot-qemu`), named
 * when that file was changed.
 */
export async function integrityChecks(
  dir: string,
  m: ReleaseManifest,
  uses: ReadonlyMap<string, string[]> = new Map(),
): Promise<Check[]> {
  const checks: Check[] = [];
  const hashesPath = join(dir, RELEASE_HASHES);
  const lines = parseHashesTxt(await readText(hashesPath), hashesPath);
  const listed = new Map(lines.map((l) => [l.path, l.sha256]));
  const declared = new Map(m.boards.flatMap((b) => b.artifacts.map((a) => [a.path, a.sha256] as const)));
  const sizes = new Map(m.boards.flatMap((b) => b.artifacts.map((a) => [a.path, a.size] as const)));
  for (const [path, sha] of declared) {
    if (listed.get(path) !== sha)
      checks.push(
        fail(
          'integrity',
          `${RELEASE_HASHES} ${listed.has(path) ? `lists ${listed.get(path)}` : 'does not list'} ${path}, but ${RELEASE_MANIFEST} says ${sha}`,
        ),
      );
  }
  for (const path of listed.keys())
    if (!declared.has(path))
      checks.push(
        fail('integrity', `${RELEASE_HASHES} lists ${path}, which ${RELEASE_MANIFEST} does not declare`),
      );
  for (const [path, sha] of declared) {
    // Regular files only, links not followed: a link to identical bytes elsewhere is not the release.
    const hashed = await sha256RegularFile(join(dir, path), { followLinks: false }).catch((err: unknown) =>
      irregular(err),
    );
    if (hashed instanceof IrregularFileError) {
      checks.push(
        fail(
          'integrity',
          hashed.what === 'does not exist'
            ? `${path} is missing from the release folder`
            : `${path} ${hashed.what}: a release folder holds regular files only`,
        ),
      );
      continue;
    }
    if (hashed.sha256 !== sha)
      checks.push(
        fail(
          'integrity',
          `${path} has sha256 ${hashed.sha256}, but the signed ${RELEASE_HASHES} says ${sha} (the file was changed${uses.has(path) ? `; it is ${uses.get(path)?.join(' and ')}` : ''})`,
        ),
      );
    // The signed manifest states each ROM's size too: a statement the bytes contradict is not verified.
    else if (hashed.size !== sizes.get(path))
      checks.push(
        fail(
          'integrity',
          `${path} is ${hashed.size} bytes, but the signed ${RELEASE_MANIFEST} says ${sizes.get(path)} (its sha256 matches: the manifest was written or edited wrongly)`,
        ),
      );
  }
  for (const b of m.boards) {
    const expected = formatHashesTxt(
      b.artifacts.map((a) => ({ path: a.path.slice(b.board.length + 1), sha256: a.sha256 })),
    );
    const actual = await readReleaseFile(join(dir, b.hashes)).then((x) => x?.toString('utf8'));
    if (actual !== expected)
      checks.push(
        fail(
          'integrity',
          `${b.hashes} ${actual === undefined ? 'is missing' : `does not match the signed ${RELEASE_HASHES}`}`,
        ),
      );
    const prov = await readReleaseFile(join(dir, b.provenance.path));
    if (prov && sha256Bytes(prov) !== b.provenance.sha256)
      checks.push(
        fail(
          'integrity',
          `${b.provenance.path} has sha256 ${sha256Bytes(prov)}, but ${RELEASE_MANIFEST} says ${b.provenance.sha256}`,
        ),
      );
  }
  if (checks.length === 0)
    checks.push(ok('integrity', `${declared.size} file(s) match the signed ${RELEASE_HASHES}`));
  return checks;
}

/** Nothing in the folder that no signed manifest lists (see releaseFiles.ts). */
export async function extraFilesCheck(dir: string, m: ReleaseManifest): Promise<Check> {
  const extra = (await unlistedFiles(dir, m)).map((p) => (/^[\x20-\x7e]*$/.test(p) ? p : JSON.stringify(p)));
  return extra.length === 0
    ? ok('files', `every file in the folder is listed in the signed ${RELEASE_MANIFEST}`)
    : fail(
        'files',
        `${extra.join(', ')} ${extra.length === 1 ? 'is' : 'are'} in the release folder but no signed ${RELEASE_MANIFEST} lists ${extra.length === 1 ? 'it' : 'them'}`,
      );
}

/** The statement agrees with the release manifest entry it belongs to. */
export function consistency(b: ReleaseBoard, d: DescribedBuild): Check[] {
  const problems = [
    ...jsonDifferences(
      {
        board: b.board,
        pin: b.pin,
        extraPins: b.extraPins,
        image: b.image,
        sourceHash: b.source.hash,
        commands: b.commands,
        sourceDateEpoch: b.sourceDateEpoch,
      },
      {
        board: d.board,
        pin: d.pin,
        extraPins: d.extraPins,
        image: d.image,
        sourceHash: d.source.hash,
        commands: d.commands,
        sourceDateEpoch: d.sourceDateEpoch,
      },
    ),
    ...jsonDifferences(
      b.artifacts.map((a) => ({ name: a.path.slice(b.board.length + 1), sha256: a.sha256 })),
      d.subjects,
      'subjects',
    ),
  ];
  return problems.length === 0
    ? []
    : [fail('provenance', `${b.provenance.path} disagrees with ${RELEASE_MANIFEST}: ${problems.join('; ')}`)];
}

export interface SignatureResult {
  ok: boolean;
  key: string;
  files: SignatureCheck[];
}

/**
 * The manifest's signature first (until it holds, not even its list of files is trusted),
 * then every other signed file, then each provenance's DSSE envelope: it must verify with
 * the key and carry exactly the bytes of provenance.json. A release signed before
 * envelopes existed (or with a key that cannot make one) has none: that is noted.
 */
export async function signatureChecks(
  dir: string,
  verifier: Verifier,
  notes: string[],
): Promise<{ signature: SignatureResult; manifest?: ReleaseManifest }> {
  const manifestPath = join(dir, RELEASE_MANIFEST);
  const first = await verifier.check(manifestPath);
  const signature: SignatureResult = { ok: first.ok, key: verifier.describe, files: [first] };
  if (!first.ok) return { signature };
  const manifest = parseReleaseManifest(await readText(manifestPath), manifestPath);
  for (const f of signedFiles(manifest).slice(1)) signature.files.push(await verifier.check(join(dir, f)));
  const unchecked = await otherFormatSignatures(dir, manifest, verifier.format);
  if (unchecked.length > 0)
    notes.push(
      `${unchecked.join(', ')} ${unchecked.length === 1 ? 'was' : 'were'} not checked: this verify used ${verifier.describe}; pass the ${verifier.format === 'ssh' ? 'OpenPGP' : 'OpenSSH'} key with --key to check ${unchecked.length === 1 ? 'it' : 'them'} too`,
    );
  for (const b of manifest.boards) {
    const file = join(dir, b.provenance.path);
    const envelope = join(dir, envelopePath(b.provenance.path));
    const read = await readRegularFile(envelope, { followLinks: false, max: MAX_INPUT_BYTES }).catch(
      (err: unknown) => irregular(err),
    );
    // Present but a folder or oversize: not "absent" (that would pass with a note), refused by name.
    if (read instanceof IrregularFileError && !read.what.startsWith('does not exist')) {
      signature.files.push({
        file,
        signature: envelope,
        ok: false,
        message: `bad DSSE envelope ${envelopePath(b.provenance.path)}: it ${read.what}, expected a regular file`,
      });
      continue;
    }
    const text = read instanceof IrregularFileError ? undefined : read.toString('utf8');
    if (text === undefined) {
      notes.push(
        `${envelopePath(b.provenance.path)} is absent: the provenance has no DSSE envelope (its detached signature was checked)`,
      );
      continue;
    }
    if (verifier.ed25519.length === 0) {
      notes.push(
        `${envelopePath(b.provenance.path)} was not checked: it is signed with an OpenSSH ed25519 key, and ${verifier.describe} holds none (its detached signature was checked)`,
      );
      continue;
    }
    const r = verifyEnvelope(text, verifier.ed25519);
    const bytes = await readReleaseFile(file);
    signature.files.push(
      !r.ok
        ? {
            file,
            signature: envelope,
            ok: false,
            message: `bad DSSE envelope ${envelopePath(b.provenance.path)}: ${r.message}`,
          }
        : bytes === undefined || !r.payload.equals(bytes)
          ? {
              file,
              signature: envelope,
              ok: false,
              message: `the DSSE envelope ${envelopePath(b.provenance.path)} carries another statement than ${b.provenance.path}`,
            }
          : {
              file,
              signature: envelope,
              ok: true,
              message: `good DSSE envelope (in-toto statement) by ${r.keyid}${r.present > 1 ? ` (signature ${r.verified} of ${r.present}; the others were not checked or do not verify with the given key)` : ''}`,
            },
    );
  }
  signature.ok = signature.files.every((f) => f.ok);
  return { signature, manifest };
}

/**
 * Per released file, the boards of the release built with it as an input, as people name
 * them: `seabios-coreboot/out/bios.bin.elf` → `input payloads/seabios.elf of coreboot-qemu`.
 */
export function inputUses(
  m: ReleaseManifest,
  described: ReadonlyArray<{ board: ReleaseBoard; build: DescribedBuild }>,
): Map<string, string[]> {
  const uses = new Map<string, string[]>();
  for (const { board, build } of described)
    for (const i of build.inputs) {
      if (!i.board || !i.artifact || !m.boards.some((b) => b.board === i.board)) continue;
      const released = `${i.board}/${i.artifact}`;
      uses.set(released, [...(uses.get(released) ?? []), `input ${i.path} of ${board.board}`]);
    }
  return uses;
}

/**
 * A chain is released whole: every input another board of the release produced must be the
 * bytes the release holds for that board's artifact (the consumer's provenance names the sha256
 * it was built with). An input from a board outside the release is said so; `verify` rebuilds it.
 */
export function inputLinkChecks(m: ReleaseManifest, board: ReleaseBoard, d: DescribedBuild): Check[] {
  const checks: Check[] = [];
  for (const i of d.inputs) {
    if (!i.board || !i.artifact) continue;
    const what = `input ${i.path} (board ${i.board}, artifact ${i.artifact})`;
    const producer = m.boards.find((b) => b.board === i.board);
    if (!producer) {
      checks.push(
        ok(
          'input',
          `${what}: ${board.board} was built with sha256 ${i.sha256}; board ${i.board} is not in this release (a rebuild rebuilds it)`,
        ),
      );
      continue;
    }
    const path = `${i.board}/${i.artifact}`;
    const released = producer.artifacts.find((a) => a.path === path);
    if (!released)
      checks.push(fail('input', `${what}: the release holds board ${i.board} but not its artifact ${path}`));
    else if (released.sha256 !== i.sha256)
      checks.push(
        fail(
          'input',
          `${what}: ${board.board} was built with sha256 ${i.sha256}, but the release's ${path} has sha256 ${released.sha256}`,
        ),
      );
    else checks.push(ok('input', `${what} is ${path} of this release (sha256 ${i.sha256})`));
  }
  return checks;
}

/** Each board's provenance: complete, and in agreement with the signed manifest. */
export async function provenanceChecks(
  dir: string,
  m: ReleaseManifest,
): Promise<Array<{ board: ReleaseBoard; build: DescribedBuild; checks: Check[] }>> {
  const out: Array<{ board: ReleaseBoard; build: DescribedBuild; checks: Check[] }> = [];
  for (const b of m.boards) {
    const path = join(dir, b.provenance.path);
    // Incomplete provenance is refused here (exit 2, naming the field).
    const { build } = parseProvenance(await readText(path), path);
    const checks = consistency(b, build);
    if (checks.length === 0)
      checks.push(
        ok(
          'provenance',
          `${b.provenance.path} names the same source, pins, image and artifacts as ${RELEASE_MANIFEST}${build.source.dirty ? ' (built from a dirty or unversioned local source)' : ''}`,
        ),
      );
    checks.push(...inputLinkChecks(m, b, build));
    out.push({ board: b, build, checks });
  }
  return out;
}

/**
 * A downloaded ROM against the signed list: its sha256 must be listed, under its own
 * file name when that name is listed.
 */
export async function romCheck(
  rom: string,
  listed: ReadonlyArray<{ path: string; sha256: string }>,
  listName: string,
  /** False when no signature of the list was checked: it is then not called "signed". */
  signed = true,
): Promise<Check> {
  // The user's own file: a link to it is fine, but what is hashed must be a regular file.
  const hashed = await sha256RegularFile(rom, { followLinks: true }).catch((err: unknown) => irregular(err));
  if (hashed instanceof IrregularFileError)
    throw new UsageError(
      hashed.what === 'does not exist'
        ? `--rom ${rom}: no such file`
        : `--rom ${rom} ${hashed.what}, expected a ROM file`,
      'pass the ROM file you downloaded (with --no-rebuild)',
    );
  const sha = hashed.sha256;
  const list = signed ? `signed ${listName}` : `${listName} (not signature-checked)`;
  const name = basename(rom);
  const byHash = listed.filter((l) => l.sha256 === sha);
  const byName = listed.filter((l) => baseName(l.path) === name);
  const same = byHash.find((l) => baseName(l.path) === name) ?? (byName.length === 0 ? byHash[0] : undefined);
  if (same) return ok('rom', `${name} has sha256 ${sha}, as the ${list} lists for ${same.path}`);
  if (byName.length > 0)
    return fail(
      'rom',
      `${name} has sha256 ${sha}, but the ${list} lists ${byName.map((l) => `${l.sha256} for ${l.path}`).join(', ')}`,
    );
  return fail('rom', `${name} has sha256 ${sha}, which the ${list} does not list`);
}
