/**
 * A Debian binary package of another architecture (an arm64 kernel on an amd64 host): apt
 * gets an index state of its own in reprorom's cache, selected by options built here.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { foreignAptDir, foreignArchOptions, hostDebianArch, isForeignArch } from '../../src/offline/apt.js';

describe('apt for another architecture', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env['REPROROM_CACHE'];
    process.env['REPROROM_CACHE'] = '/c/reprorom';
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['REPROROM_CACHE'];
    else process.env['REPROROM_CACHE'] = saved;
  });

  it('names the host architecture as Debian does', () => {
    expect(hostDebianArch('x64')).toBe('amd64');
    expect(hostDebianArch('arm64')).toBe('arm64');
    expect(hostDebianArch('ia32')).toBe('i386');
    expect(hostDebianArch('riscv64')).toBe('riscv64');
  });

  it('needs a state of its own only for an architecture the host indexes lack (not for all)', () => {
    expect(isForeignArch('arm64', 'amd64')).toBe(true);
    expect(isForeignArch('riscv64', 'amd64')).toBe(true);
    expect(isForeignArch('amd64', 'amd64')).toBe(false);
    expect(isForeignArch('all', 'amd64')).toBe(false);
    expect(isForeignArch('amd64', 'arm64')).toBe(true);
  });

  it('keeps that state in the cache, one folder per architecture', () => {
    expect(foreignAptDir('arm64')).toBe(join('/c/reprorom', 'apt', 'arm64'));
    expect(foreignAptDir('riscv64')).toBe(join('/c/reprorom', 'apt', 'riscv64'));
  });

  it('selects only that architecture, with lists, status and caches in its folder and the host sources', () => {
    const dir = '/c/reprorom/apt/arm64';
    const opts = foreignArchOptions('arm64', dir);
    const values = opts.filter((_, i) => i % 2 === 1);
    expect(opts.filter((_, i) => i % 2 === 0).every((o) => o === '-o')).toBe(true);
    expect(values).toEqual([
      'APT::Architecture=arm64',
      'APT::Architectures=arm64',
      'Dir::State::Lists=/c/reprorom/apt/arm64/lists',
      'Dir::State::status=/c/reprorom/apt/arm64/status',
      'Dir::Cache=/c/reprorom/apt/arm64/cache',
      'Acquire::Languages=none',
      'APT::Sandbox::User=root',
    ]);
    // The sources stay the host's: nothing names a mirror or another sources file.
    expect(values.some((v) => /^Dir::Etc|sources|https?:/i.test(v))).toBe(false);
    // Every path apt could write is inside the folder: the host's /var/lib/apt is left alone.
    for (const v of values.filter((x) => x.startsWith('Dir::')))
      expect(v.split('=')[1]).toMatch(/^\/c\/reprorom\/apt\/arm64\//);
  });

  it('refuses an architecture that could carry another option', () => {
    expect(() => foreignArchOptions('arm64 -o Dir::Etc=/tmp', '/d')).toThrow(/not a Debian architecture/);
    expect(() => foreignArchOptions('arm64=x', '/d')).toThrow(/not a Debian architecture/);
    expect(() => foreignArchOptions('', '/d')).toThrow(/not a Debian architecture/);
  });
});
