import { readdir } from 'node:fs/promises';
import { it } from 'vitest';
import { indexedSha256 } from '../../src/sources/debian.js';
import { prepareSource } from '../../src/sources/prepare.js';
import { execFileSync } from 'node:child_process';
it('uboot+seabios', async () => {
  for (const [pkg, version] of [['seabios', '1.16.2-1'], ['u-boot', '2023.01+dfsg-2+deb12u3']] as const) {
    const sha256 = await indexedSha256(pkg, version);
    console.log(pkg, version, JSON.stringify(sha256, null, 1));
    for (const order of ['sorted', 'shuffled'] as const) {
      const t0 = Date.now();
      const into = `/tmp/reprorom-prep-${pkg}-${order}`;
      execFileSync('rm', ['-rf', into]);
      const p = await prepareSource('/work/main', { type: 'debian-source', package: pkg, version, sha256 }, { into, order, seed: 9 });
      console.log(pkg, order, Date.now() - t0, 'ms', p.hash, p.files, p.commitTime, p.cacheHit, (await readdir(p.dir)).slice(0, 30).join(' '));
    }
    execFileSync('sh', ['-c', `cd /tmp && rm -rf x && mkdir x && cd x && dpkg-source --no-copy -x ~/.cache/reprorom/sources/${pkg}_${version}/*.dsc >/dev/null 2>&1; ls`], { stdio: 'inherit' });
  }
});
