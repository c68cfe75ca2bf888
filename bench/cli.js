// 2. Cached image build, 6. artifact hashing against sha256sum, 7. start-up.
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { alternate, cli, node, ROOT, say, sh, timed } from './measure.js';
import { benchDir } from './paths.js';
import { makeRow, median } from './report.js';

export async function cachedRebuildBench({ reps = 7 } = {}) {
  // The first call builds (or loads) the image if this machine has not yet; it is not timed.
  const first = cli(['image', 'build', 'firmware', '--json'], { cwd: ROOT });
  if (!JSON.parse(first.stdout).cached) say('the firmware image was not cached yet: built it first (not timed)');
  const times = Array.from({ length: reps }, () => cli(['image', 'build', 'firmware'], { cwd: ROOT }).wall);
  return [
    makeRow({
      id: 'cached-image',
      name: 'cached `image build firmware`, incl. process start',
      value: median(times),
      unit: 's',
      // Informational since the start-up targets became `--version` and `check` (issue 15):
      // a command that talks to the engine loads dockerode with ssh2 and gRPC (~0.2 s).
      note: `median of ${reps}; validates the workspace, checks the cache entry and that the engine has the image and its tag, loading dockerode (ssh2, gRPC, protobufjs included)`,
      samples: { value: times },
    }),
  ];
}

const HASH_FILES = 128;
const HASH_FILE_BYTES = 16 * 1024 * 1024; // 128 × 16 MiB = 2 GiB of "ROMs"

/** 2 GiB of incompressible artifacts, made once with a fast generator and kept. */
function hashInputs() {
  const dir = benchDir('hash');
  const files = Array.from({ length: HASH_FILES }, (_, i) => join(dir, `rom-${String(i).padStart(3, '0')}.bin`));
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  for (const f of files) {
    if (existsSync(f) && statSync(f).size === HASH_FILE_BYTES) continue;
    const fd = openSync(f, 'w');
    for (let off = 0; off < HASH_FILE_BYTES; off += buf.length) writeSync(fd, randomFillSync(buf));
    closeSync(fd);
  }
  return files;
}

export async function hashingBench({ reps = 3 } = {}) {
  const files = hashInputs();
  const list = files.join(' ');
  sh(`cat ${list} > /dev/null`); // warm page cache for both
  // Same answers first: a fast wrong hash is no result.
  const ours = node('child/hash.js', files);
  const theirs = sh(`sha256sum ${list}`);
  if (ours.stdout.trim() !== theirs.stdout.trim()) throw new Error('sha256File and sha256sum disagree on the bench files');
  const inner = [];
  const [o, b] = alternate(
    reps,
    () => {
      const r = node('child/hash.js', files);
      inner.push(Number(r.stderr.trim()));
      return r.wall;
    },
    () => sh(`sha256sum ${list} > /dev/null`).wall,
  );
  return [
    makeRow({
      id: 'hashing',
      name: 'artifact hashing, 2 GiB in 128 files: sha256File vs sha256sum',
      value: median(o),
      baseline: median(b),
      unit: 's',
      target: { on: 'ratio', op: '<=', limit: 1.1 },
      note: `both incl. process start, warm page cache, alternated, median of ${reps}; hashing alone ${median(inner).toFixed(2)} s; node's OpenSSL uses the CPU's SHA extensions, Debian's sha256sum does not`,
      samples: { value: o, baseline: b },
    }),
  ];
}

export async function startupBench({ reps = 9 } = {}) {
  const run = (args) => Array.from({ length: reps }, () => cli(args, { cwd: ROOT }).wall);
  const version = run(['--version']);
  const check = run(['check']);
  const bare = Array.from({ length: reps }, () => timed(process.execPath, ['-e', '0']).wall);
  const note = `median of ${reps}; a bare \`node -e 0\` takes ${median(bare).toFixed(3)} s here`;
  return [
    makeRow({ id: 'startup-version', name: 'start-up: `reprorom --version`', value: median(version), unit: 's', target: { on: 'value', op: '<', limit: 0.5 }, note, samples: { value: version } }),
    makeRow({ id: 'startup-check', name: 'start-up: `reprorom check` (default workspace)', value: median(check), unit: 's', target: { on: 'value', op: '<', limit: 0.5 }, note: `median of ${reps}`, samples: { value: check } }),
  ];
}
