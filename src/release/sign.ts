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
import { type ExecaError, execa } from 'execa';
import { writeFileAtomic } from '../util/atomic.js';
import { EnvironmentError, UsageError } from '../util/errors.js';
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

/** Missing tools are an environment problem (exit 3) with the package that brings them. */
export function toolMissing(err: unknown, tool: string, pkg: string): EnvironmentError | undefined {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as ExecaError).code === 'ENOENT') {
    return new EnvironmentError(`${tool} is not installed`, `install it: apt-get install -y ${pkg}`);
  }
  return undefined;
}

export function firstLines(text: string, n = 3): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, n)
    .join('; ');
}

async function signatureOf(file: string, key: string, format: SignFormat): Promise<string> {
  const data = await readFile(file);
  try {
    if (format === 'ssh') {
      // Data on stdin, signature on stdout: the .sig is then written atomically by us.
      const r = await execa('ssh-keygen', ['-Y', 'sign', '-f', key, '-n', SSH_NAMESPACE], {
        input: data,
        stdin: 'pipe',
      });
      return `${r.stdout}\n`;
    }
    const r = await execa(
      'gpg',
      ['--batch', '--yes', '--detach-sign', '--armor', '--local-user', key, '--output', '-', file],
      { stdin: 'ignore' },
    );
    return `${r.stdout}\n`;
  } catch (err) {
    const missing = toolMissing(
      err,
      format === 'ssh' ? 'ssh-keygen' : 'gpg',
      format === 'ssh' ? 'openssh-client' : 'gnupg',
    );
    if (missing) throw missing;
    const e = err as ExecaError;
    throw new UsageError(
      `cannot sign ${file} with ${format === 'ssh' ? 'OpenSSH key' : 'GnuPG key'} ${key}: ${firstLines(String(e.stderr ?? e.shortMessage))}`,
      format === 'ssh'
        ? 'pass a readable OpenSSH private key without passphrase (or loaded in ssh-agent), mode 0600'
        : 'pass the id or fingerprint of a secret key in your GnuPG keyring (gpg --list-secret-keys)',
    );
  }
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

/** Sign each file; returns the signature paths written. */
export async function signFiles(
  files: readonly string[],
  key: string,
  format: SignFormat,
): Promise<string[]> {
  checkSigningKey(key, format);
  const out: string[] = [];
  for (const file of files) {
    const sig = `${file}${SIGNATURE_EXT[format]}`;
    await writeFileAtomic(sig, await signatureOf(file, key, format));
    out.push(sig);
  }
  return out;
}

export interface EnvelopeResult {
  /** Envelope files written. */
  written: string[];
  /** Why none was written (a key that cannot sign one), or undefined. */
  skipped?: string;
}

/**
 * Wrap each provenance statement (its exact bytes) in a DSSE envelope signed with the
 * OpenSSH ed25519 private key `keyFile`, written beside it as `provenance.intoto.jsonl`.
 */
export async function signEnvelopes(
  provenanceFiles: readonly string[],
  keyFile: string,
): Promise<EnvelopeResult> {
  let signer: ReturnType<typeof readEd25519PrivateKey>;
  try {
    signer = readEd25519PrivateKey(await readFile(keyFile, 'utf8'), keyFile);
  } catch (err) {
    // A passphrase (the detached signatures may still come from ssh-agent): no envelope, said so.
    if (err instanceof UsageError)
      return { written: [], skipped: `no DSSE envelope was written: ${err.message}` };
    throw err;
  }
  if (!signer)
    return {
      written: [],
      skipped: `${keyFile} is not an ed25519 key, so no DSSE envelope was written (the detached signatures cover the provenance)`,
    };
  const written: string[] = [];
  for (const file of provenanceFiles) {
    const out = envelopePath(file);
    await writeFileAtomic(out, formatEnvelope(signEnvelope(await readFile(file), signer)));
    written.push(out);
  }
  return { written };
}
