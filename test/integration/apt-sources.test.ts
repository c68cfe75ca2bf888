/**
 * Issue 30 item 3: Debian binary inputs on a machine whose apt sources also carry deb-src
 * lines. `apt-cache madison BINARY` then prints the source package's versions too; only the
 * binary's own `Packages` lines may reach `apt-get download`, and one version apt cannot
 * download must not hide the others. Real apt, with a deb-src entry in this test's own apt
 * configuration (APT_CONFIG), derived from the machine's sources (no host name written here).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aptPoolFolders, binaryVersions } from '../../src/offline/apt.js';

/** A binary package whose source package has another name and version (linux-signed-amd64). */
const KERNEL = 'linux-image-6.1.0-57-amd64';

describe('binaryVersions', () => {
  it('keeps only the binary package’s own Packages lines', () => {
    const madison = [
      `${KERNEL} |  6.1.192-3 | http://mirror.invalid/debian-security bookworm-security/main amd64 Packages`,
      'linux-signed-amd64 | 6.1.192+3 | http://mirror.invalid/debian-security bookworm-security/main Sources',
      `${KERNEL} |  6.1.192-3 | http://mirror.invalid/debian-security bookworm-security/main Sources`,
      '',
    ].join('\n');
    expect(binaryVersions(madison, KERNEL)).toEqual(['6.1.192-3']);
  });
});

describe('aptPoolFolders with a deb-src line in the apt sources (real apt)', () => {
  let dir = '';
  const saved = process.env['APT_CONFIG'];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rr-apt-src-'));
    const parts = join(dir, 'sources.list.d');
    await mkdir(parts, { recursive: true });
    await mkdir(join(dir, 'lists', 'partial'), { recursive: true });
    await mkdir(join(dir, 'cache', 'archives', 'partial'), { recursive: true });
    await writeFile(join(dir, 'sources.list'), '');
    // The machine's Debian sources (deb822), each with deb-src added: a user's ordinary set-up.
    const host = '/etc/apt/sources.list.d';
    let copied = 0;
    for (const f of (await readdir(host)).filter((n) => n.endsWith('.sources'))) {
      const text = await readFile(join(host, f), 'utf8');
      if (!text.includes('debian-archive-keyring')) continue;
      await writeFile(join(parts, f), text.replace(/^Types: deb$/gm, 'Types: deb deb-src'));
      copied++;
    }
    expect(copied, 'no Debian deb822 sources on this machine').toBeGreaterThan(0);
    const config = join(dir, 'apt.conf');
    await writeFile(
      config,
      [
        `Dir::Etc::sourcelist "${join(dir, 'sources.list')}";`,
        `Dir::Etc::sourceparts "${parts}";`,
        `Dir::State::Lists "${join(dir, 'lists')}";`,
        `Dir::Cache "${join(dir, 'cache')}";`,
        'Acquire::Languages "none";',
        'APT::Sandbox::User "root";',
        '',
      ].join('\n'),
    );
    process.env['APT_CONFIG'] = config;
    await execa('apt-get', ['update', '-q'], { env: { APT_CONFIG: config } });
  }, 600_000);

  afterAll(async () => {
    if (saved === undefined) delete process.env['APT_CONFIG'];
    else process.env['APT_CONFIG'] = saved;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds the binary’s archive folder although madison also lists its source package', async () => {
    const madison = await execa('apt-cache', ['madison', KERNEL], {
      env: { APT_CONFIG: process.env['APT_CONFIG'] },
    });
    // The deb-src entry is in effect: without it this test could not fail.
    expect(madison.stdout).toMatch(/\| .* Sources$/m);
    const folders = await aptPoolFolders(KERNEL);
    expect(folders.length).toBeGreaterThan(0);
    for (const f of folders)
      expect(f).toMatch(/^[a-z]+:\/\/.+\/pool\/(updates\/)?main\/l\/linux-signed-amd64\/$/);
  });
});
