/**
 * Signing and signature checks with the real ssh-keygen and gpg (both are local,
 * fast tools; under CI=true their absence fails these tests rather than skipping).
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guessFormat, signFiles } from '../../src/release/sign.js';
import { openVerifier } from '../../src/release/signature.js';
import { UsageError } from '../../src/util/errors.js';

let dir = '';
const savedHome = process.env['GNUPGHOME'];

async function sshKey(name: string): Promise<string> {
  const key = join(dir, name);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
  return key;
}

async function gpgKey(home: string, uid: string): Promise<{ fpr: string; pub: string }> {
  const env = { GNUPGHOME: home };
  await execa('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', uid, 'ed25519', 'sign', 'never'], {
    env,
  });
  const list = await execa('gpg', ['--batch', '--with-colons', '--list-keys', uid], { env });
  const fpr = /^fpr:+([0-9A-F]+):/m.exec(list.stdout)?.[1] ?? '';
  const pub = join(dir, `${uid.replace(/\W/g, '_')}.asc`);
  await writeFile(pub, (await execa('gpg', ['--batch', '--armor', '--export', fpr], { env })).stdout);
  return { fpr, pub };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rr-sign-'));
});
afterAll(() => {
  if (savedHome === undefined) delete process.env['GNUPGHOME'];
  else process.env['GNUPGHOME'] = savedHome;
});

describe('OpenSSH signatures', () => {
  it('signs with ssh-keygen -Y and verifies with the public key; tampering, other keys and missing signatures fail', async () => {
    const key = await sshKey('alice');
    const other = await sshKey('mallory');
    const file = join(dir, 'manifest.json');
    await writeFile(file, '{"a":1}\n');
    expect(guessFormat(key)).toBe('ssh');
    const [sig] = await signFiles([file], key, 'ssh');
    expect(sig).toBe(`${file}.sig`);
    expect(await readFile(sig!, 'utf8')).toContain('BEGIN SSH SIGNATURE');

    const v = await openVerifier({ key: `${key}.pub` });
    expect(await v.check(file)).toMatchObject({
      ok: true,
      message: expect.stringContaining('good OpenSSH signature'),
    });
    await writeFile(file, '{"a":2}\n');
    expect(await v.check(file)).toMatchObject({
      ok: false,
      message: expect.stringContaining('bad signature'),
    });
    await writeFile(file, '{"a":1}\n');
    await v.close();

    const wrong = await openVerifier({ key: `${other}.pub` });
    expect(await wrong.check(file)).toMatchObject({
      ok: false,
      message: expect.stringContaining('not from the given key'),
    });
    expect(await wrong.check(join(dir, 'nothing'))).toMatchObject({
      ok: false,
      message: expect.stringContaining('missing signature'),
    });
    await wrong.close();

    // An allowed_signers file with the user's own principal works too.
    const allowed = join(dir, 'allowed_signers');
    const pub = (await readFile(`${key}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    await writeFile(allowed, `alice@example.org ${pub}\n`);
    const viaAllowed = await openVerifier({ key: allowed });
    expect(await viaAllowed.check(file)).toMatchObject({
      ok: true,
      message: expect.stringContaining('alice@example.org'),
    });
    await viaAllowed.close();
  });

  it('refuses a private key given to verify, and no key at all', async () => {
    const key = await sshKey('bob');
    await expect(openVerifier({ key })).rejects.toThrow(/private key/);
    await expect(openVerifier({})).rejects.toBeInstanceOf(UsageError);
  });
});

describe('OpenPGP signatures', () => {
  it('signs with gpg --detach-sign and verifies with an exported public key or a keyring', async () => {
    const home = await mkdtemp(join(tmpdir(), 'rr-gnupg-'));
    const otherHome = await mkdtemp(join(tmpdir(), 'rr-gnupg-'));
    const alice = await gpgKey(home, 'Alice <alice@example.org>');
    const mallory = await gpgKey(otherHome, 'Mallory <mallory@example.org>');
    const file = join(dir, 'hashes.txt');
    await writeFile(file, `${'a'.repeat(64)}  x/bios.bin\n`);
    process.env['GNUPGHOME'] = home;
    expect(guessFormat(alice.fpr)).toBe('gpg');
    const [asc] = await signFiles([file], alice.fpr, 'gpg');
    expect(await readFile(asc!, 'utf8')).toContain('BEGIN PGP SIGNATURE');

    const v = await openVerifier({ key: alice.pub });
    expect(await v.check(file)).toMatchObject({ ok: true, message: expect.stringContaining('Alice') });
    await writeFile(file, `${'b'.repeat(64)}  x/bios.bin\n`);
    expect(await v.check(file)).toMatchObject({
      ok: false,
      message: expect.stringContaining('bad signature'),
    });
    await writeFile(file, `${'a'.repeat(64)}  x/bios.bin\n`);
    await v.close();

    const wrong = await openVerifier({ key: mallory.pub });
    expect(await wrong.check(file)).toMatchObject({
      ok: false,
      message: expect.stringContaining('not from the given key'),
    });
    await wrong.close();

    const keyring = join(dir, 'alice.gpg');
    // --output, not stdout: execa strips a final newline byte, which would damage a binary keyring.
    await execa('gpg', ['--batch', '--output', keyring, '--export', alice.fpr], { env: { GNUPGHOME: home } });
    const viaRing = await openVerifier({ keyring });
    const ringCheck = await viaRing.check(file);
    expect(ringCheck.ok, ringCheck.message).toBe(true);
    await viaRing.close();
    await execa('gpgconf', ['--kill', 'all'], { env: { GNUPGHOME: home }, reject: false });
    await execa('gpgconf', ['--kill', 'all'], { env: { GNUPGHOME: otherHome }, reject: false });
  });
});
