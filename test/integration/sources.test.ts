/**
 * Debian source packages through the machine's real apt: a private deb-src
 * config derived from /etc/apt, a real download, sha256 pins, the cache and
 * dpkg-source. Under CI a missing apt or dpkg-source fails the run; elsewhere
 * the suite is skipped with the reason below.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianCacheDir, indexedSha256 } from '../../src/sources/debian.js';
import { SourceError } from '../../src/sources/errors.js';
import { prepareSource } from '../../src/sources/prepare.js';
import type { Source } from '../../src/workspace/schema.js';

function has(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const ready = has('apt-get') && has('dpkg-source');
// Not CI and no apt/dpkg-dev: skip (this machine cannot fetch Debian sources). Under CI=true, never skip.
const skip = !ready && process.env['CI'] !== 'true';

const SEABIOS: Source = {
  type: 'debian-source',
  patches: 'debian',
  package: 'seabios',
  version: '1.16.2-1',
  sha256: {
    'seabios_1.16.2-1.dsc': '32bcfddb7c78fab3d983ab3c557398a4013a11e55dcd8a9c3de273e74a56b9c3',
    'seabios_1.16.2.orig.tar.gz': 'efa8d529442ad168056f94ac6666b1b3543c62ff7af6d9e020561f4d0e32f959',
    'seabios_1.16.2-1.debian.tar.xz': '7970d1790903f8ebabebce7c1952764c41edaa1f8a915097c2119bb7877efa98',
  },
};

let tmp: string;
let savedCache: string | undefined;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'reprorom-src-it-'));
  savedCache = process.env['REPROROM_CACHE'];
  process.env['REPROROM_CACHE'] = join(tmp, 'cache');
});
afterAll(async () => {
  if (savedCache === undefined) delete process.env['REPROROM_CACHE'];
  else process.env['REPROROM_CACHE'] = savedCache;
  await rm(tmp, { recursive: true, force: true });
});

describe.skipIf(skip)('debian-source through the real apt', () => {
  let n = 0;
  const into = (): string => join(tmp, `copy-${++n}`);
  let firstHash = '';
  let firstMs = 0;

  it('downloads seabios 1.16.2-1 with a private apt config, verifies the pins and unpacks it', async () => {
    const aptListsBefore = execFileSync('sh', ['-c', 'ls -l /var/lib/apt/lists | md5sum']).toString();
    const t0 = Date.now();
    const p = await prepareSource(tmp, SEABIOS, { into: into() });
    firstMs = Date.now() - t0;
    firstHash = p.hash;
    expect(p.cacheHit).toBe(false);
    expect(p.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(p.files).toBeGreaterThan(100);
    expect(await readdir(p.dir)).toEqual(expect.arrayContaining(['Makefile', 'src', 'debian', 'vgasrc']));
    expect(await readFile(join(p.dir, 'debian', 'changelog'), 'utf8')).toMatch(/^seabios \(1\.16\.2-1\)/);
    expect(p.commitTime).toBeGreaterThan(1_600_000_000); // date of the newest changelog entry
    expect((await readdir(debianCacheDir('seabios', '1.16.2-1'))).sort()).toEqual(
      Object.keys(SEABIOS.sha256).sort(),
    );
    // The private config never touches the host's apt state, and no host name was written anywhere but the cache.
    expect(execFileSync('sh', ['-c', 'ls -l /var/lib/apt/lists | md5sum']).toString()).toBe(aptListsBefore);
    const sources = await readFile(
      join(tmp, 'cache', 'apt', 'etc', 'sources.list.d', 'reprorom-src.sources'),
      'utf8',
    ).catch(() => '');
    const oneLine = await readFile(join(tmp, 'cache', 'apt', 'etc', 'sources.list'), 'utf8');
    expect(`${sources}${oneLine}`).toMatch(/deb-src/);
  });

  it('serves the second use from the verified cache, fast and without apt', async () => {
    const t0 = Date.now();
    const p = await prepareSource(tmp, SEABIOS, { into: into(), order: 'reverse' });
    const ms = Date.now() - t0;
    expect(p.cacheHit).toBe(true);
    expect(p.hash).toBe(firstHash);
    expect(ms).toBeLessThan(Math.max(firstMs, 3000));
  });

  it('detects a truncated .orig tarball in the cache and fetches it again', async () => {
    const orig = join(debianCacheDir('seabios', '1.16.2-1'), 'seabios_1.16.2.orig.tar.gz');
    await truncate(orig, 1000);
    const p = await prepareSource(tmp, SEABIOS, { into: into(), order: 'shuffled', seed: 5 });
    expect(p.cacheHit).toBe(false);
    expect(p.hash).toBe(firstHash);
    expect((await stat(orig)).size).toBe(635918);
  });

  it('agrees with the signed Sources index', async () => {
    expect(await indexedSha256('seabios', '1.16.2-1')).toEqual(
      SEABIOS.type === 'debian-source' ? SEABIOS.sha256 : {},
    );
  });

  it('refuses a download whose sha256 differs from the pin, naming the file and both hashes', async () => {
    await rm(debianCacheDir('seabios', '1.16.2-1'), { recursive: true });
    const wrong = '1'.repeat(64);
    const bad: Source = {
      ...SEABIOS,
      sha256: {
        ...(SEABIOS.type === 'debian-source' ? SEABIOS.sha256 : {}),
        'seabios_1.16.2-1.debian.tar.xz': wrong,
      },
    };
    const err = (await prepareSource(tmp, bad, { into: into() }).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toBe(
      `sha256 mismatch for seabios_1.16.2-1.debian.tar.xz of seabios 1.16.2-1: expected ${wrong}, got 7970d1790903f8ebabebce7c1952764c41edaa1f8a915097c2119bb7877efa98`,
    );
    await expect(stat(debianCacheDir('seabios', '1.16.2-1'))).rejects.toThrow(); // nothing half-verified stays
  });

  it('says clearly when the mirror does not serve a package (opensbi)', async () => {
    const opensbi: Source = {
      type: 'debian-source',
      patches: 'debian',
      package: 'opensbi',
      version: '1.1-2',
      sha256: { 'opensbi_1.1-2.dsc': '0'.repeat(64) },
    };
    const err = (await prepareSource(tmp, opensbi, { into: into() }).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(
      /^Debian source package opensbi 1\.1-2 is not available from this machine's apt mirror: opensbi_1\.1\.orig\.tar\.gz \(404/,
    );
    expect(err.hint).toMatch(/tarball or git source/);
  });

  it('lists the versions the mirror has when the pinned one is missing', async () => {
    const old: Source = {
      type: 'debian-source',
      patches: 'debian',
      package: 'seabios',
      version: '1.12.0-1',
      sha256: { 'x.dsc': '0'.repeat(64) },
    };
    await expect(prepareSource(tmp, old, { into: into() })).rejects.toThrow(
      /seabios 1\.12\.0-1 is not available: the mirror has 1\.16\.2-1/,
    );
  });
});
