// Start-up, cached image answers, and artifact hashing against sha256sum.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { median, row, sh, timed } from './measure.js';

const cli = (root, ...args) => timed(process.execPath, [`${root}bin/reprorom.js`, ...args], { cwd: root });

export async function startupBench(root) {
  const version = median([1, 2, 3, 4, 5, 6, 7].map(() => cli(root, '--version').wall));
  const check = median([1, 2, 3, 4, 5, 6, 7].map(() => cli(root, 'check').wall));
  return [
    row('start-up: reprorom --version', version, null, 's', '< 0.3 s', version < 0.3),
    row('start-up: reprorom check (default workspace)', check, null, 's', '< 0.3 s', check < 0.3),
  ];
}

export async function cachedRebuildBench(root) {
  cli(root, 'image', 'build', 'firmware');
  const t = median([1, 2, 3, 4, 5].map(() => cli(root, 'image', 'build', 'firmware').wall));
  return [row('cached image build (unchanged, incl. process start)', t, null, 's', '< 0.5 s', t < 0.5)];
}

export async function hashingBench(root) {
  const dir = '/tmp/reprorom-bench/hash';
  await mkdir(dir, { recursive: true });
  if (!existsSync(`${dir}/b.bin`)) sh(`head -c 1073741824 /dev/urandom > ${dir}/a.bin && head -c 1073741824 /dev/urandom > ${dir}/b.bin`);
  await writeFile(
    `${dir}/hash.mjs`,
    `import { sha256File } from '${root}dist/hashes/sha256.js';\nfor (const f of process.argv.slice(2)) console.log(await sha256File(f));\n`,
  );
  sh(`cat ${dir}/a.bin ${dir}/b.bin > /dev/null`);
  const ours = [];
  const base = [];
  for (let i = 0; i < 3; i++) {
    base.push(sh(`sha256sum ${dir}/a.bin ${dir}/b.bin > /dev/null`).wall);
    ours.push(timed(process.execPath, [`${dir}/hash.mjs`, `${dir}/a.bin`, `${dir}/b.bin`]).wall);
  }
  const o = median(ours);
  const b = median(base);
  return [row('artifact hashing, 2 GiB', o, b, 's', '≤ 1.1× sha256sum', o <= 1.1 * b, 'incl. node start')];
}
