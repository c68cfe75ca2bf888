// Kernel-sized sources (issue 26 item 5): the real linux-qemu-x86_64 board, from its
//     "run 1/1 started" line to the first compiler line of its build (`HOSTCC …`), against the
//     same unpack (ar, then tar -xJ twice: 139 MB of .deb to 1.3 GB of tree) on the host.
//     The build is stopped there (SIGINT, as a user would): the compile itself is not measured.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'yaml';
import { cacheDir } from '../dist/util/paths.js';
import { CLI, cli, ROOT, say, sh } from './measure.js';
import { benchDir, WORK } from './paths.js';
import { makeRow, median } from './report.js';

const BOARD = 'linux-qemu-x86_64';
/** The board's pinned linux-source-6.1 .deb (the input cache names it by this sha256), read from the board. */
const DEB_SHA256 = parse(readFileSync(join(ROOT, 'boards', `${BOARD}.yaml`), 'utf8')).inputs.find(
  (input) => input.type === 'debian' && input.package === 'linux-source-6.1',
).sha256;
const STARTED = new RegExp(`\\[${BOARD}\\] run 1/1 started`);
/** Kbuild's quiet lines: the first compile is a host tool (fixdep). */
const COMPILER = /\b(HOSTCC|CC)\s+\S/;

/** A workspace with the bundled pins and images, the kernel board and its local source. */
function kernelWorkspace() {
  const ws = benchDir('work', 'kernel-source');
  for (const part of ['pins', 'images', 'kernel']) cpSync(join(ROOT, part), join(ws, part), { recursive: true });
  mkdirSync(join(ws, 'boards'), { recursive: true });
  cpSync(join(ROOT, 'boards', `${BOARD}.yaml`), join(ws, 'boards', `${BOARD}.yaml`));
  return ws;
}

/** Seconds from the run's start to its first compiler line; the build is then interrupted. */
function toFirstCompilerLine(ws) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'build', BOARD, '--runs', '1', '--no-explain', '--verbose', '-w', ws], {
      cwd: ws,
      env: { ...process.env, NO_COLOR: '1', REPROROM_QUIET: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let started;
    let seconds;
    const tail = [];
    createInterface({ input: child.stderr }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      const now = performance.now();
      if (started === undefined && STARTED.test(line)) started = now;
      else if (started !== undefined && seconds === undefined && COMPILER.test(line)) {
        seconds = (now - started) / 1000;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (seconds !== undefined) resolve(seconds);
      else reject(new Error(`${BOARD} exited ${code} before a compiler line: ${tail.join('\n')}`));
    });
  });
}

/** The same unpack kernel/build.sh does, on the host, from the cached .deb. */
function hostUnpack() {
  const dir = mkdtempSync(join(benchDir('work', String(process.pid)), 'unpack-'));
  try {
    return sh(
      `cd ${dir} && cp ${join(cacheDir(), 'inputs', DEB_SHA256)} linux-source.deb && ar x linux-source.deb data.tar.xz && ` +
        'tar -xJf data.tar.xz ./usr/src/linux-source-6.1.tar.xz && rm -f data.tar.xz linux-source.deb && ' +
        'mkdir linux && tar -xJf usr/src/linux-source-6.1.tar.xz -C linux --strip-components=1',
    ).wall;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function kernelSourceBench({ reps = 3 } = {}) {
  const ws = kernelWorkspace();
  say('kernel source: building the kernel image and fetching linux-source-6.1 (first run only)');
  cli(['image', 'build', 'kernel', '-w', ws]);
  await toFirstCompilerLine(ws); // warm-up: downloads and verifies the .deb into the cache
  const runs = [];
  const host = [];
  for (let i = 0; i < reps; i++) {
    runs.push(await toFirstCompilerLine(ws));
    host.push(hostUnpack());
  }
  rmSync(join(ws, '.reprorom'), { recursive: true, force: true });
  return [
    makeRow({
      id: 'kernel-source',
      name: `${BOARD}: run started → first compiler line vs the same unpack on the host`,
      value: median(runs),
      baseline: median(host),
      unit: 's',
      target: { on: 'value', op: '<=', limit: 60 },
      note:
        `median of ${reps}, alternated with the host unpack; the run gets the cached, verified 139 MB .deb and unpacks ` +
        'it in its container (ar, tar -xJ twice), then make tinyconfig/olddefconfig until the first HOSTCC; the host ' +
        `figure is the unpack alone (cp, ar, tar -xJ twice into ${WORK})`,
      samples: { value: runs, baseline: host },
    }),
  ];
}
