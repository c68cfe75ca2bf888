/**
 * Checks detached signatures with the real tools. `--key` may be an OpenSSH
 * public key (a temporary allowed_signers is made from it), an allowed_signers
 * file, or an OpenPGP public key (imported into a temporary GNUPGHOME);
 * `--keyring` is a GnuPG keyring file. The user's own keyring is never touched.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MAX_INPUT_BYTES, MAX_KEY_BYTES, MAX_SIGNATURE_BYTES } from '../hashes/limits.js';
import { UsageError } from '../util/errors.js';
import { removeOnHardExit } from '../util/interrupt.js';
import { printable } from '../util/printable.js';
import { formatBytes, IrregularFileError, openRegularFile, readRegularFile } from '../util/regularFile.js';
import { runToolResult } from '../util/tool.js';
import { type Ed25519Key, ed25519PublicKeys } from './dsse.js';
import { firstLines, SIGNATURE_EXT, type SignFormat, SSH_NAMESPACE, TOOL_INSTALL } from './sign.js';

export interface SignatureCheck {
  file: string;
  signature: string;
  ok: boolean;
  message: string;
}

export interface Verifier {
  format: SignFormat;
  describe: string;
  /** The ed25519 keys among an OpenSSH --key (for DSSE envelopes); none for OpenPGP. */
  ed25519: Ed25519Key[];
  check(file: string): Promise<SignatureCheck>;
  close(): Promise<void>;
}

/**
 * A key or keyring the user named: a regular file (a link to one is followed) of at most
 * MAX_KEY_BYTES. A FIFO would block for ever, /dev/zero would fill the memory.
 */
async function readKeyFile(path: string, named: string, hint: string): Promise<Buffer> {
  try {
    return await readRegularFile(path, { followLinks: true, max: MAX_KEY_BYTES });
  } catch (err) {
    if (!(err instanceof IrregularFileError)) throw err;
    throw new UsageError(
      err.what === 'does not exist'
        ? `${named}: file not found`
        : `${named} ${err.what}, expected a key file`,
      hint,
    );
  }
}

/** A signature file must be a regular file of at most MAX_SIGNATURE_BYTES before a tool reads it. */
async function signatureProblem(signature: string): Promise<string | undefined> {
  try {
    const { handle, size } = await openRegularFile(signature, { followLinks: false });
    await handle.close();
    return size > MAX_SIGNATURE_BYTES
      ? `signature ${signature} is ${size} bytes, more than the ${formatBytes(MAX_SIGNATURE_BYTES)} a signature may have`
      : undefined;
  } catch (err) {
    if (!(err instanceof IrregularFileError)) throw err;
    return err.what === 'does not exist'
      ? `missing signature: ${signature} does not exist (sign with \`reprorom sign DIR --key KEY\`)`
      : `signature ${signature} ${err.what}, expected a regular file`;
  }
}

const SSH_KEY_LINE = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-\S+|sk-\S+)\s+[A-Za-z0-9+/=]+/;

function isOpenPgp(bytes: Buffer): boolean {
  const text = bytes.subarray(0, 100).toString('latin1');
  // Armoured, or a binary packet (the high bit of the first byte is always set).
  return text.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----') || ((bytes[0] ?? 0) & 0x80) !== 0;
}

export async function openVerifier(opts: { key?: string; keyring?: string }): Promise<Verifier> {
  if (opts.keyring) return gpgVerifier({ keyring: resolve(opts.keyring) });
  if (!opts.key)
    throw new UsageError(
      'verify needs --key or --keyring to check the release signature',
      "pass the signer's OpenSSH public key (.pub), an allowed_signers file, or an OpenPGP public key file",
    );
  const key = resolve(opts.key);
  const bytes = await readKeyFile(key, `--key ${opts.key}`, 'pass a public key file');
  if (isOpenPgp(bytes)) return gpgVerifier({ keyFile: key });
  const text = bytes.toString('utf8');
  if (text.includes('PRIVATE KEY')) {
    throw new UsageError(
      `--key ${opts.key} is a private key`,
      'pass the public key (the .pub file) or an allowed_signers file',
    );
  }
  return sshVerifier(key, text);
}

/** `key SHA256:… (comment)`: the fingerprint `ssh-keygen -l` prints, and the key's comment if it has one. */
export function sshKeyName(line: string): string {
  const [, blob = '', ...comment] = line.trim().split(/\s+/);
  const fingerprint = createHash('sha256')
    .update(Buffer.from(blob, 'base64'))
    .digest('base64')
    .replace(/=+$/, '');
  const note = comment.join(' ');
  return printable(`key SHA256:${fingerprint}${note ? ` (${note})` : ''}`);
}

async function sshVerifier(keyFile: string, text: string): Promise<Verifier> {
  const dir = await mkdtemp(join(tmpdir(), 'reprorom-ssh-'));
  const forget = removeOnHardExit(dir);
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  let allowed = keyFile;
  let describe = `allowed_signers ${keyFile}`;
  // The signer a good signature names: the principal of an allowed_signers file (the user's
  // own name for the key), or for a bare key its fingerprint and comment, never a made-up name.
  const signers = new Map<string, string>();
  if (lines.length > 0 && lines.every((l) => SSH_KEY_LINE.test(l))) {
    // A bare public key: it becomes the only allowed signer, for the reprorom namespace only.
    allowed = join(dir, 'allowed_signers');
    const entries = lines.map((l, i) => {
      const principal = `key-${i + 1}`;
      signers.set(principal, sshKeyName(l));
      return `${principal} namespaces="${SSH_NAMESPACE}" ${l.split(/\s+/).slice(0, 2).join(' ')}`;
    });
    await writeFile(allowed, `${entries.join('\n')}\n`);
    describe = `OpenSSH public key ${keyFile}`;
  }
  // The exit code is the answer (a good or a bad signature): only a missing ssh-keygen throws.
  const run = (args: string[], input?: Buffer) =>
    runToolResult('ssh-keygen', args, { install: TOOL_INSTALL['ssh-keygen'], ...(input ? { input } : {}) });
  return {
    format: 'ssh',
    describe,
    ed25519: ed25519PublicKeys(text),
    async check(file) {
      const signature = `${file}${SIGNATURE_EXT.ssh}`;
      const problem = await signatureProblem(signature);
      if (problem) return { file, signature, ok: false, message: problem };
      const found = await run(['-Y', 'find-principals', '-s', signature, '-f', allowed]);
      const principal = found.stdout.split('\n')[0]?.trim();
      if (found.exitCode !== 0 || !principal) {
        return {
          file,
          signature,
          ok: false,
          message: `signature ${signature} is not from the given key (${firstLines(found.stderr) || 'no principal matched'})`,
        };
      }
      const r = await run(
        ['-Y', 'verify', '-f', allowed, '-I', principal, '-n', SSH_NAMESPACE, '-s', signature],
        await readRegularFile(file, { followLinks: true, max: MAX_INPUT_BYTES }),
      );
      const said = firstLines(`${r.stdout}\n${r.stderr}`);
      return r.exitCode === 0
        ? {
            file,
            signature,
            ok: true,
            message: `good OpenSSH signature by ${signers.get(principal) ?? printable(principal)}`,
          }
        : {
            file,
            signature,
            ok: false,
            message: `bad signature: ${file} does not match ${signature} (${said})`,
          };
    },
    close: async () => {
      await rm(dir, { recursive: true, force: true });
      forget();
    },
  };
}

async function gpgVerifier(source: { keyFile?: string; keyring?: string }): Promise<Verifier> {
  const home = await mkdtemp(join(tmpdir(), 'reprorom-gpg-'));
  const forget = removeOnHardExit(home);
  await chmod(home, 0o700);
  const env = { GNUPGHOME: home };
  const ring = source.keyring ? ['--no-default-keyring', '--keyring', source.keyring] : [];
  const gpg = (args: string[]) =>
    runToolResult('gpg', ['--batch', ...ring, ...args], { env, install: TOOL_INSTALL.gpg });
  const close = async () => {
    await runToolResult('gpgconf', ['--kill', 'all'], { env, install: TOOL_INSTALL.gpg }).catch(() => {});
    await rm(home, { recursive: true, force: true });
    forget();
  };
  if (source.keyring) {
    // Checked like a key (gpg would block on a FIFO): a regular file under the cap.
    await readKeyFile(
      source.keyring,
      `--keyring ${source.keyring}`,
      'pass a GnuPG keyring file (e.g. exported with `gpg --export KEY > keyring.gpg`)',
    ).catch(async (err: unknown) => {
      await close();
      throw err;
    });
  }
  if (source.keyFile) {
    const r = await gpg(['--import', source.keyFile]);
    if (r.exitCode !== 0) {
      await close();
      throw new UsageError(
        `cannot import OpenPGP key ${source.keyFile}: ${firstLines(r.stderr)}`,
        'pass an OpenPGP public key (gpg --export --armor KEY)',
      );
    }
  }
  return {
    format: 'gpg',
    ed25519: [],
    describe: source.keyring
      ? `GnuPG keyring ${source.keyring}`
      : `OpenPGP public key ${source.keyFile ?? ''}`,
    async check(file) {
      const signature = `${file}${SIGNATURE_EXT.gpg}`;
      const problem = await signatureProblem(signature);
      if (problem) return { file, signature, ok: false, message: problem };
      const r = await gpg(['--status-fd', '1', '--verify', signature, file]);
      const status = r.stdout;
      const good = /^\[GNUPG:\] GOODSIG (\S+) (.*)$/m.exec(status);
      if (r.exitCode === 0 && good && /^\[GNUPG:\] VALIDSIG /m.test(status)) {
        return { file, signature, ok: true, message: `good OpenPGP signature by ${good[2]} (${good[1]})` };
      }
      const missingKey = /^\[GNUPG:\] (?:ERRSIG|NO_PUBKEY) (\S+)/m.exec(status);
      if (/^\[GNUPG:\] BADSIG /m.test(status))
        return {
          file,
          signature,
          ok: false,
          message: `bad signature: ${file} does not match ${signature} (changed after signing)`,
        };
      if (missingKey)
        return {
          file,
          signature,
          ok: false,
          message: `signature ${signature} is not from the given key (made by key ${missingKey[1]})`,
        };
      return {
        file,
        signature,
        ok: false,
        message: `signature ${signature} not accepted: ${firstLines(r.stderr || status)}`,
      };
    },
    close,
  };
}
