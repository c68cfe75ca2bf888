/**
 * Detached signatures of release files with the real tools: OpenSSH
 * (`ssh-keygen -Y sign`, namespace "reprorom", FILE.sig) and OpenPGP
 * (`gpg --detach-sign --armor`, FILE.asc); and, with an OpenSSH ed25519 key, a DSSE
 * envelope around each provenance statement (see dsse.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ExecaError } from 'execa';
import { writeFilesAtomic } from '../util/atomic.js';
import { UsageError } from '../util/errors.js';
import { formatBytes, IrregularFileError, readRegularFile } from '../util/regularFile.js';
import { runTool } from '../util/tool.js';
import { envelopePath, formatEnvelope, readEd25519PrivateKey, signEnvelope } from './dsse.js';

export type SignFormat = 'ssh' | 'gpg';
export const SSH_NAMESPACE = 'reprorom';
export const SIGNATURE_EXT: Record<SignFormat, string> = { ssh: '.sig', gpg: '.asc' };

/** An existing private key file means OpenSSH; anything else is a GnuPG key id, fingerprint or user id. */
export function guessFormat(key: string): SignFormat {
  if (existsSync(key) && statSync(key).isFile()) {
    const head = readFileSync(key, 'utf8').slice(0, 200);
    if (/BEGIN PGP/.test(head)) {
      throw new UsageError(
        `${key} is an OpenPGP key file`,
        'sign with gpg by key id or fingerprint: import the key (`gpg --import`) and pass --key <fingerprint>',
      );
    }
    return 'ssh';
  }
  return 'gpg';
}

export function parseFormat(value: string | undefined, key: string): SignFormat {
  if (value === undefined) return guessFormat(key);
  if (value === 'ssh' || value === 'gpg') return value;
  throw new UsageError(`--format ${value} is not known`, 'use --format ssh or --format gpg');
}

/** How to get each signing tool: a missing one is an environment problem (exit 3) naming its package. */
export const TOOL_INSTALL = {
  'ssh-keygen': 'install it: apt-get install -y openssh-client',
  gpg: 'install it: apt-get install -y gnupg',
} as const;

export function firstLines(text: string, n = 3): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, n)
    .join('; ');
}

/** A signed file is a manifest, a hashes list or a provenance statement: small. */
const MAX_SIGNED_BYTES = 64 * 1024 * 1024;

export interface SignOptions {
  /** Follow a link to the file (one file the user named); false inside a release folder, which holds regular files only. */
  followLinks?: boolean;
  /** Stops the signing tool; nothing is written then. */
  signal?: AbortSignal;
}

/** The bytes to sign, from a regular file only: a FIFO would block the tool, /dev/zero never end. */
async function bytesToSign(file: string, followLinks: boolean): Promise<Buffer> {
  try {
    return await readRegularFile(file, { followLinks, max: MAX_SIGNED_BYTES });
  } catch (err) {
    if (!(err instanceof IrregularFileError)) throw err;
    throw new UsageError(
      `cannot sign ${file}: it ${err.what}${err.tooLarge === undefined ? ', expected a regular file' : ''}`,
      err.tooLarge === undefined
        ? 'sign a release folder written by `reprorom release`, or one regular file'
        : `files to sign are at most ${formatBytes(MAX_SIGNED_BYTES)}`,
    );
  }
}

async function signatureOf(
  file: string,
  key: string,
  format: SignFormat,
  opts: SignOptions,
): Promise<string> {
  const data = await bytesToSign(file, opts.followLinks ?? false);
  // Data on stdin, signature on stdout: what is signed is what was checked, and we write the file.
  const [tool, args] =
    format === 'ssh'
      ? (['ssh-keygen', ['-Y', 'sign', '-f', key, '-n', SSH_NAMESPACE]] as const)
      : ([
          'gpg',
          ['--batch', '--yes', '--detach-sign', '--armor', '--local-user', key, '--output', '-'],
        ] as const);
  try {
    const signature = await runTool(tool, args, {
      input: data,
      signal: opts.signal,
      install: TOOL_INSTALL[tool],
      failed: (_message, cause) => {
        const e = cause as ExecaError;
        return new UsageError(
          `cannot sign ${file} with ${format === 'ssh' ? 'OpenSSH key' : 'GnuPG key'} ${key}: ${firstLines(String(e.stderr ?? e.shortMessage))}`,
          format === 'ssh'
            ? 'pass a readable OpenSSH private key without passphrase (or loaded in ssh-agent), mode 0600'
            : 'pass the id or fingerprint of a secret key in your GnuPG keyring (gpg --list-secret-keys)',
        );
      },
    });
    return `${signature}\n`;
  } catch (err) {
    opts.signal?.throwIfAborted();
    throw err;
  }
}

/** A file to write once every signature has been made. */
export interface PendingFile {
  path: string;
  data: string;
}

/**
 * Refuse a key that cannot sign before any tool runs: gpg given a missing key file
 * (taken for a key id) would create ~/.gnupg just to say it knows no such key.
 */
export function checkSigningKey(key: string, format: SignFormat): void {
  const looksLikePath = /[/\\]/.test(key) || /^[.~]/.test(key);
  if ((format === 'ssh' || looksLikePath) && !(existsSync(key) && statSync(key).isFile())) {
    throw new UsageError(
      `--key ${key}: no such key file`,
      'pass an OpenSSH private key file (e.g. ~/.ssh/id_ed25519), or the id or fingerprint of a GnuPG secret key',
    );
  }
  if (format === 'gpg') {
    const home = process.env['GNUPGHOME'] || join(homedir(), '.gnupg');
    if (!existsSync(home)) {
      throw new UsageError(
        `--key ${key}: there is no GnuPG keyring (${home} does not exist), so no such key`,
        'pass an OpenSSH private key file, or create or import the GnuPG key first (gpg --import)',
      );
    }
  }
}

/** The detached signature of each file, made but not yet written. */
export async function signaturesOf(
  files: readonly string[],
  key: string,
  format: SignFormat,
  opts: SignOptions = {},
): Promise<PendingFile[]> {
  checkSigningKey(key, format);
  const out: PendingFile[] = [];
  for (const file of files) {
    opts.signal?.throwIfAborted();
    out.push({ path: `${file}${SIGNATURE_EXT[format]}`, data: await signatureOf(file, key, format, opts) });
  }
  return out;
}

/** Sign each file, all or nothing (see writeFilesAtomic); returns the signature paths written. */
export async function signFiles(
  files: readonly string[],
  key: string,
  format: SignFormat,
  opts: SignOptions = {},
): Promise<string[]> {
  const pending = await signaturesOf(files, key, format, opts);
  await writeFilesAtomic(pending);
  return pending.map((p) => p.path);
}

export interface EnvelopeResult {
  /** Envelope files made (written together with the signatures). */
  pending: PendingFile[];
  /** Why none was made (a key that cannot sign one), or undefined. */
  skipped?: string;
}

/**
 * Wrap each provenance statement (its exact bytes) in a DSSE envelope signed with the
 * OpenSSH ed25519 private key `keyFile`, to be written beside it as `provenance.intoto.jsonl`.
 */
export async function envelopesOf(
  provenanceFiles: readonly string[],
  keyFile: string,
): Promise<EnvelopeResult> {
  let signer: ReturnType<typeof readEd25519PrivateKey>;
  try {
    signer = readEd25519PrivateKey(await readFile(keyFile, 'utf8'), keyFile);
  } catch (err) {
    // A passphrase (the detached signatures may still come from ssh-agent): no envelope, said so.
    if (err instanceof UsageError)
      return { pending: [], skipped: `no DSSE envelope was written: ${err.message}` };
    throw err;
  }
  if (!signer)
    return {
      pending: [],
      skipped: `${keyFile} is not an ed25519 key, so no DSSE envelope was written (the detached signatures cover the provenance)`,
    };
  const pending: PendingFile[] = [];
  for (const file of provenanceFiles) {
    const statement = await bytesToSign(file, false);
    pending.push({ path: envelopePath(file), data: formatEnvelope(signEnvelope(statement, signer)) });
  }
  return { pending };
}
