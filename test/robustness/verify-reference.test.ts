/**
 * `verify hashes.txt --rom R --board B` reads its reference before it builds anything: a
 * file that is not a hashes list, or that does not list the ROM, is refused at once. The
 * engine is pointed nowhere, so any attempt to build would fail differently (exit 3).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { CLI, expectNoStack } from './support.js';

let dir: string;
const nowhere = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rr-verify-ref-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const verify = (file: string, rom: string) =>
  execa('node', [CLI, 'verify', file, '--rom', rom, '--board', 'seabios-qemu', '-w', repoRoot], {
    reject: false,
    env: nowhere,
  });

describe('verify reference', () => {
  it('a hashes.txt that does not list the ROM is refused before any rebuild', async () => {
    const file = join(dir, 'hashes.txt');
    await writeFile(file, `${'a'.repeat(64)}  build/x86/other/heads-other.rom\n`);
    const r = await verify(file, 'bios.bin');
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).toContain('bios.bin is not listed in');
    expect(r.stdout + r.stderr).toContain('nothing was rebuilt');
    expect(r.stdout + r.stderr).not.toMatch(/engine|docker/i);
    expectNoStack(r.stderr);
  });

  it('a file that is not a hashes list is a usage error before any rebuild', async () => {
    const file = join(dir, 'notes.txt');
    await writeFile(file, 'these are release notes\nnot hashes\n');
    const r = await verify(file, 'bios.bin');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).not.toMatch(/engine|docker/i);
    expectNoStack(r.stderr);
  });
});
