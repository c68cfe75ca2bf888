/**
 * A good OpenSSH signature names its signer as the user knows it: for a bare public key its
 * fingerprint (as `ssh-keygen -l` prints it) and comment, never a name the tool made up.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signFiles } from '../../src/release/sign.js';
import { openVerifier, sshKeyName } from '../../src/release/signature.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rr-signer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the signer a good OpenSSH signature names', () => {
  it('a bare public key: its SHA256 fingerprint and comment, as ssh-keygen -l prints them', async () => {
    const key = join(dir, 'release');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'release@example.org', '-f', key]);
    const listed = (await execa('ssh-keygen', ['-l', '-f', `${key}.pub`])).stdout;
    const fingerprint = /SHA256:\S+/.exec(listed)?.[0];
    expect(fingerprint).toBeDefined();
    const file = join(dir, 'manifest.json');
    await writeFile(file, '{}\n');
    await signFiles([file], key, 'ssh');
    const v = await openVerifier({ key: `${key}.pub` });
    try {
      const check = await v.check(file);
      expect(check.ok).toBe(true);
      expect(check.message).toBe(`good OpenSSH signature by key ${fingerprint} (release@example.org)`);
      expect(check.message).not.toMatch(/by reprorom/);
    } finally {
      await v.close();
    }
  });

  it('a key without a comment is named by its fingerprint alone; control characters are shown escaped', () => {
    const blob = Buffer.from('not a real key').toString('base64');
    expect(sshKeyName(`ssh-ed25519 ${blob}`)).toMatch(/^key SHA256:[A-Za-z0-9+/]+$/);
    expect(sshKeyName(`ssh-ed25519 ${blob} evil\u001b[2Jname`)).not.toContain('\u001b');
  });
});
