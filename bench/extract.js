// 9. Host-side extraction of 100,000 small artifacts (issue 31 item 17): the archive a build
// container sends back, written into the run's output folder through every containment check.
// Callable alone: `node bench/extract.js` prints the row (no engine or nix needed).
import { createWriteStream, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import tarStream from 'tar-stream';
import { alternate, node, say, sh } from './measure.js';
import { benchDir, WORK } from './paths.js';
import { makeRow, median } from './report.js';

const FILES = 100_000;

/** `out/dNNN/aNNNNNN.bin`, 100 folders of 1,000 files of 20–30 bytes, as the container's tar sends them; made once, kept. */
async function extractInput() {
  const tar = join(benchDir('extract'), `artifacts-${FILES}.tar`);
  if (existsSync(tar) && statSync(tar).size > FILES * 1024) return tar;
  say(`writing a tar of ${FILES.toLocaleString('en-US')} small artifacts…`);
  const pack = tarStream.pack();
  const done = pipeline(pack, createWriteStream(`${tar}.tmp`));
  const mtime = new Date(1_700_000_000_000);
  pack.entry({ name: 'out', type: 'directory', mode: 0o755, mtime });
  for (let d = 0; d < 100; d++) pack.entry({ name: `out/d${String(d).padStart(3, '0')}`, type: 'directory', mode: 0o755, mtime });
  for (let i = 0; i < FILES; i++) {
    const name = `out/d${String(i % 100).padStart(3, '0')}/a${String(i).padStart(6, '0')}.bin`;
    pack.entry({ name, mode: 0o644, mtime }, `artifact number ${i}\n`);
  }
  pack.finalize();
  await done;
  sh(`mv ${tar}.tmp ${tar}`);
  return tar;
}

export async function extractBench({ reps = 3 } = {}) {
  const tar = await extractInput();
  // A new folder for every extraction: removing 100,000 files costs more than writing them
  // (ext4 with online discard here), so all of them go at the end, with WORK.
  let n = 0;
  const fresh = (kind) => {
    const dir = join(WORK, `extract-${kind}-${n++}`);
    sh(`mkdir -p ${dir}`);
    return dir;
  };
  // Right answer first: every file written, and the same bytes as tar writes.
  const ours = fresh('ours');
  const theirs = fresh('tar');
  const first = node('child/extract.js', [tar, ours]);
  if (Number(first.stdout.trim()) !== FILES) throw new Error(`extractArchive wrote ${first.stdout.trim()} files; expected ${FILES}`);
  sh(`tar -xf ${tar} -C ${theirs} && diff -r ${ours} ${theirs} > /dev/null`);
  const [o, base] = alternate(
    reps,
    // The child's own figure: extraction alone, without Node's start-up.
    () => Number(node('child/extract.js', [tar, fresh('ours')]).stderr.trim().split('\n').at(-1)),
    () => sh(`tar -xf ${tar} -C ${fresh('tar')}`).wall,
  );
  return [
    makeRow({
      id: 'extract',
      name: `artifact extraction, ${FILES.toLocaleString('en-US')} small files (extractArchive, artifact policy) vs tar -x`,
      value: median(o),
      baseline: median(base),
      unit: 's',
      target: { on: 'value', op: '<', limit: 10 },
      note: `median of ${reps}; every entry through the containment checks, hashed while written; baseline GNU \`tar -xf\` of the same archive`,
      samples: { value: o, baseline: base },
    }),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await extractBench({ reps: 1 })) console.log(JSON.stringify(row, null, 2));
  rmSync(WORK, { recursive: true, force: true });
}
