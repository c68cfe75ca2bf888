/**
 * Issue: verifying a release. release → sign → verify round trips for seabios-qemu with
 * an OpenSSH key and a GnuPG key made here, the ways a tampered release is refused, the
 * byte-identity of two independent releases, and a Heads-style hashes.txt as reference.
 * Real engine, nix, ssh-keygen and gpg; under CI=true a missing one fails, never skips.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianCacheDir } from '../../src/sources/debian.js';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, type RealProbe, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';

/** A tool on PATH (ssh-keygen has no harmless flag that exits 0, so ask the shell). */
async function probeTool(cmd: string): Promise<RealProbe> {
  const r = await execa('sh', ['-c', `command -v ${cmd}`], { reject: false, stdin: 'ignore' });
  return {
    what: cmd,
    ok: r.exitCode === 0,
    reason:
      r.exitCode === 0
        ? String(r.stdout)
        : `${cmd} not found on PATH (apt-get install -y openssh-client gnupg)`,
  };
}

const probes = [await probeEngine(), await probeNix(), await probeTool('ssh-keygen'), await probeTool('gpg')];
// Outside CI a missing piece skips with its reason; under CI=true requireReal fails the suite.
const skip = probes.some(skipUnlessReal);

let tmp = '';
let ws = '';
let release = '';
let signedSsh = '';
let sshKey = '';
let gnupgHome = '';

const ROM = 'seabios-qemu/out/bios.bin';
/** A release builds SeaBIOS twice (and may load the image first): minutes on a loaded 2-core machine. */
const FIRMWARE_BUILD = { timeoutMs: 540_000 };

async function copyOf(src: string, name: string): Promise<string> {
  const dst = join(tmp, name);
  await cp(src, dst, { recursive: true });
  return dst;
}

async function newSshKey(name: string): Promise<string> {
  const key = join(tmp, name);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
  return key;
}

const verify = (target: string, ...args: string[]) => runCli(['verify', target, '-w', ws, ...args]);

describe.skipIf(skip)('release, sign, verify (real engine, nix, ssh-keygen, gpg)', () => {
  beforeAll(async () => {
    if (inCi) for (const p of probes) requireReal(p);
    tmp = await mkdtemp(join(tmpdir(), 'rr-release-'));
    ws = await copyWorkspace('rr-release-ws-');
    release = join(tmp, 'release-a');
    const r = await runCli(['release', 'seabios-qemu', '-w', ws, '--out', release, '--json'], FIRMWARE_BUILD);
    expect(r.exitCode, r.stderr).toBe(0);
    sshKey = await newSshKey('signer');
    signedSsh = await copyOf(release, 'signed-ssh');
    const s = await runCli(['sign', signedSsh, '--key', sshKey]);
    expect(s.exitCode, s.stderr).toBe(0);
  });
  afterAll(async () => {
    if (gnupgHome)
      await execa('gpgconf', ['--kill', 'all'], { env: { GNUPGHOME: gnupgHome }, reject: false });
    if (tmp) await rm(tmp, { recursive: true, force: true });
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  it('writes ROMs, a sha256sum list, a release manifest and provenance, and sha256sum -c accepts it', async () => {
    const check = await execa('sha256sum', ['-c', 'hashes.txt'], { cwd: release });
    expect(check.stdout).toBe(`${ROM}: OK`);
    const manifest = JSON.parse(await readFile(join(release, 'manifest.json'), 'utf8'));
    expect(manifest.boards[0]).toMatchObject({
      board: 'seabios-qemu',
      reproducedRuns: 2,
      image: { name: 'firmware' },
      pin: { name: 'offline' },
      source: { type: 'debian-source' },
    });
    const prov = JSON.parse(await readFile(join(release, 'seabios-qemu/provenance.json'), 'utf8'));
    expect(prov._type).toBe('https://in-toto.io/Statement/v1');
    expect(prov.subject[0].name).toBe('out/bios.bin');
    expect(JSON.stringify(prov)).not.toMatch(/hostname|"uid"|runId|startedOn/);
  });

  it('names the Debian source files by what sha256sum prints for the downloaded .dsc and .orig', async () => {
    const prov = JSON.parse(await readFile(join(release, 'seabios-qemu/provenance.json'), 'utf8'));
    const deps = new Map<string, { uri?: string; digest: Record<string, string> }>(
      prov.predicate.buildDefinition.resolvedDependencies.map((d: { name: string }) => [d.name, d]),
    );
    const dir = debianCacheDir('seabios', '1.16.2-1');
    const files = (await readdir(dir)).filter((f) => /\.(dsc|orig\.tar\.\w+)$/.test(f));
    expect(files.some((f) => f.endsWith('.dsc')) && files.some((f) => f.includes('.orig.'))).toBe(true);
    for (const f of files) {
      const sum = (await execa('sha256sum', [join(dir, f)])).stdout.split(' ')[0];
      expect(deps.get(`source/${f}`), f).toEqual({
        name: `source/${f}`,
        uri: 'pkg:deb/debian/seabios@1.16.2-1?arch=source',
        digest: { sha256: sum },
      });
    }
  });

  it('two independent releases in other folders give byte-identical hashes.txt, manifest and provenance', async () => {
    const ws2 = await copyWorkspace('rr-release-ws2-');
    try {
      const other = join(tmp, 'elsewhere', 'release-b');
      const r = await runCli(['release', 'seabios-qemu', '-w', ws2, '--out', other], FIRMWARE_BUILD);
      expect(r.exitCode, r.stderr).toBe(0);
      for (const f of [
        'hashes.txt',
        'manifest.json',
        'seabios-qemu/provenance.json',
        'seabios-qemu/hashes.txt',
      ]) {
        expect(await readFile(join(other, f), 'utf8'), f).toBe(await readFile(join(release, f), 'utf8'));
      }
    } finally {
      await rm(ws2, { recursive: true, force: true });
    }
  });

  it('refuses a board declared not reproducible (expectMismatch) before building: exit 2 at its position', async () => {
    const out = join(tmp, 'declared');
    const r = await runCli(['release', 'seabios-qemu-naive', '-w', ws, '--out', out]);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /^reprorom: \S*boards\/seabios-qemu-naive\.yaml:\d+:\d+: board seabios-qemu-naive is declared not reproducible \(expectMismatch: .*\), so release refuses it$/m,
    );
    expect(r.stderr).not.toMatch(/run 1\/2 started/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses to release a board that is not reproducible, naming the artifact and writing nothing', async () => {
    // The naive SeaBIOS without its declaration: only the build can tell that it is not reproducible.
    const naive = await readFile(join(ws, 'boards/seabios-qemu-naive.yaml'), 'utf8');
    await writeFile(join(ws, 'boards/naive-undeclared.yaml'), naive.replace(/^expectMismatch:.*$/m, ''));
    const out = join(tmp, 'naive');
    const r = await runCli(['release', 'naive-undeclared', '-w', ws, '--out', out]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/not reproducible: .*bios\.bin.*nothing was written/);
    expect(existsSync(out)).toBe(false);
  });

  it('verifies an SSH-signed release given as a file:// URL: exit 0, one verdict per artifact', async () => {
    const r = await verify(
      pathToFileURL(join(signedSsh, 'manifest.json')).href,
      '--key',
      `${sshKey}.pub`,
      '--json',
    );
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.ok).toBe(true);
    // manifest, hashes, the board's hashes and provenance (detached), and the DSSE envelope.
    expect(json.signature.files.map((f: { ok: boolean }) => f.ok)).toEqual([true, true, true, true, true]);
    expect(json.boards[0].artifacts).toEqual([
      expect.objectContaining({ name: 'bios.bin', verdict: 'reproducible' }),
    ]);
    expect(json.boards[0].checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
  });

  it('verifies a GnuPG-signed release with the exported public key', async () => {
    gnupgHome = await mkdtemp(join(tmpdir(), 'rr-gnupg-'));
    const env = { GNUPGHOME: gnupgHome };
    await execa(
      'gpg',
      [
        '--batch',
        '--passphrase',
        '',
        '--quick-gen-key',
        'Release Signer <signer@example.org>',
        'ed25519',
        'sign',
        'never',
      ],
      { env },
    );
    const fpr =
      /^fpr:+([0-9A-F]+):/m.exec(
        (await execa('gpg', ['--batch', '--with-colons', '--list-keys'], { env })).stdout,
      )?.[1] ?? '';
    const pub = join(tmp, 'signer.asc');
    await writeFile(pub, (await execa('gpg', ['--batch', '--armor', '--export', fpr], { env })).stdout);
    const signed = await copyOf(release, 'signed-gpg');
    const s = await runCli(['sign', signed, '--key', fpr], { env });
    expect(s.exitCode, s.stderr).toBe(0);
    expect(existsSync(join(signed, 'manifest.json.asc'))).toBe(true);
    const r = await verify(signed, '--key', pub);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('good OpenPGP signature by Release Signer');
    expect(r.stdout).toMatch(/reproduced bios\.bin/);
  });

  it('a flipped byte in a ROM fails the integrity check and the comparison, with a diff report', async () => {
    const bad = await copyOf(signedSsh, 'flipped');
    const rom = join(bad, ROM);
    const bytes = await readFile(rom);
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    await writeFile(rom, bytes);
    const r = await verify(bad, '--key', `${sshKey}.pub`);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`integrity check failed: ${ROM} has sha256`);
    expect(r.stderr).toContain('bios.bin does not match (mismatch)');
    expect(r.stdout).toMatch(/first difference at offset 1000/);
  });

  it('a changed hash line fails the signature check of hashes.txt', async () => {
    const bad = await copyOf(signedSsh, 'hashline');
    const file = join(bad, 'hashes.txt');
    await writeFile(
      file,
      (await readFile(file, 'utf8')).replace(/^./, (c) => (c === '0' ? '1' : '0')),
    );
    const r = await verify(bad, '--key', `${sshKey}.pub`);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/signature check failed: bad signature: .*hashes\.txt does not match/);
  });

  it('a signature from another key is refused', async () => {
    const bad = await copyOf(release, 'other-key');
    const s = await runCli(['sign', bad, '--key', await newSshKey('mallory')]);
    expect(s.exitCode, s.stderr).toBe(0);
    const r = await verify(bad, '--key', `${sshKey}.pub`);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /signature check failed: signature .*manifest\.json\.sig is not from the given key/,
    );
  });

  it('a missing signature is refused', async () => {
    const bad = await copyOf(signedSsh, 'unsigned');
    await rm(join(bad, 'manifest.json.sig'));
    const r = await verify(bad, '--key', `${sshKey}.pub`);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /signature check failed: missing signature: .*manifest\.json\.sig does not exist/,
    );
  });

  it('a provenance with another pin narHash (signed by the right key) fails the pin check, naming both hashes', async () => {
    const bad = await copyOf(release, 'narhash');
    const provPath = join(bad, 'seabios-qemu/provenance.json');
    const prov = JSON.parse(await readFile(provPath, 'utf8'));
    const pinDep = prov.predicate.buildDefinition.resolvedDependencies.find(
      (d: { name: string }) => d.name === 'pin/offline',
    );
    const wsNar = `sha256-${Buffer.from(pinDep.digest.nixNarSha256, 'hex').toString('base64')}`;
    pinDep.digest.nixNarSha256 = '0'.repeat(64);
    const otherNar = `sha256-${Buffer.alloc(32).toString('base64')}`;
    const provText = `${JSON.stringify(prov, null, 2)}\n`;
    await writeFile(provPath, provText);
    // Keep the release self-consistent, as a release really built from that pin would be.
    const manPath = join(bad, 'manifest.json');
    const manifest = JSON.parse(await readFile(manPath, 'utf8'));
    manifest.boards[0].pin.narHash = otherNar;
    manifest.boards[0].provenance.sha256 = (await execa('sha256sum', [provPath])).stdout.split(' ')[0];
    await writeFile(manPath, `${JSON.stringify(manifest, null, 2)}\n`);
    expect((await runCli(['sign', bad, '--key', sshKey])).exitCode).toBe(0);
    const r = await verify(bad, '--key', `${sshKey}.pub`);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain(`pin offline: the workspace has narHash ${wsNar}`);
    expect(r.stderr).toContain(`built with narHash ${otherNar}`);
    expect(r.stderr).not.toContain('signature check failed');
  });

  it('an incomplete provenance (no image ID) is refused with exit 2 naming the field', async () => {
    const bad = await copyOf(release, 'incomplete');
    const provPath = join(bad, 'seabios-qemu/provenance.json');
    const prov = JSON.parse(await readFile(provPath, 'utf8'));
    prov.predicate.buildDefinition.resolvedDependencies =
      prov.predicate.buildDefinition.resolvedDependencies.filter(
        (d: { name: string }) => !d.name.startsWith('image/'),
      );
    await writeFile(provPath, JSON.stringify(prov));
    const manPath = join(bad, 'manifest.json');
    const manifest = JSON.parse(await readFile(manPath, 'utf8'));
    manifest.boards[0].provenance.sha256 = (await execa('sha256sum', [provPath])).stdout.split(' ')[0];
    await writeFile(manPath, JSON.stringify(manifest));
    expect((await runCli(['sign', bad, '--key', sshKey])).exitCode).toBe(0);
    const r = await verify(bad, '--key', `${sshKey}.pub`);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('no entry named "image/firmware"');
  });

  it('accepts a Heads-style hashes.txt plus --rom/--board as the published reference', async () => {
    const sha = (await readFile(join(release, 'hashes.txt'), 'utf8')).split(' ')[0];
    const heads = join(tmp, 'heads-hashes.txt');
    await writeFile(
      heads,
      `2025-10-01 12:34:56+00:00 3f2a9c1 clean\n${sha}  /home/ci/heads/build/x86/qemu/bios.bin\n${'1'.repeat(64)}  /home/ci/heads/build/x86/qemu/initrd.cpio.xz\n`,
    );
    const r = await verify(heads, '--rom', 'bios.bin', '--board', 'seabios-qemu', '--json');
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.mode).toBe('heads');
    expect(json.boards[0].artifacts).toEqual([
      expect.objectContaining({ name: 'bios.bin', verdict: 'reproducible', release: sha }),
    ]);
    const missing = await verify(heads, '--rom', 'bios.bin');
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('--rom NAME and --board BOARD');
  });
});
