/**
 * Property: one changed byte anywhere in one artifact of one run is always a mismatch,
 * never "reproducible", whether the build produced it (manifest agrees with the file)
 * or the file was edited after its manifest was written.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allArtifacts, compareSets } from '../../src/compare/compare.js';
import { loadInputs } from '../../src/compare/inputs.js';
import { mulberry32 } from '../../src/sources/order.js';
import { makeRun } from '../fixtures/hashes/makeRun.js';

const prng = mulberry32;

const SEEDS = 200;

describe('compare property: a flipped byte is always caught', () => {
  it(`reports a mismatch for ${SEEDS} random single-byte flips`, async () => {
    const base = await mkdtemp(join(tmpdir(), 'rr-prop-'));
    try {
      for (let seed = 1; seed <= SEEDS; seed++) {
        const rand = prng(seed);
        const int = (n: number) => Math.floor(rand() * n);
        const root = join(base, String(seed));
        const runs = 2 + int(3); // 2..4 runs
        const names = Array.from({ length: 1 + int(3) }, (_, i) => `art${i}.bin`);
        const files: Record<string, Buffer> = {};
        for (const n of names) files[n] = Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)));
        const victimRun = 1 + int(runs);
        const victim = names[int(names.length)] ?? 'art0.bin';
        const original = files[victim] ?? Buffer.alloc(1);
        const offset = int(original.length);
        const flipped = Buffer.from(original);
        flipped[offset] = (flipped[offset] ?? 0) ^ (1 + int(255));
        const afterManifest = seed % 2 === 0;

        for (let index = 1; index <= runs; index++) {
          const own = index === victimRun && !afterManifest ? { ...files, [victim]: flipped } : files;
          const dir = await makeRun(root, { index, files: own });
          if (index === victimRun && afterManifest) await writeFile(join(dir, 'artifacts', victim), flipped);
        }
        expect(await readFile(join(root, 'seabios', String(victimRun), 'artifacts', victim))).toEqual(
          flipped,
        );

        const c = compareSets(await loadInputs([root]));
        const row = allArtifacts(c).find((a) => a.name === victim);
        const context = `seed ${seed}: ${runs} runs, ${victim}[${offset}] in run ${victimRun}, ${afterManifest ? 'after' : 'before'} manifest`;
        expect(c.ok, context).toBe(false);
        expect(row?.verdict, context).toBe('mismatch');
        if (runs >= 3) expect(row?.disagreeing, context).toEqual([`run1/seabios#${victimRun}`]);
        for (const other of allArtifacts(c).filter((a) => a.name !== victim))
          expect(other.verdict, context).toBe('reproducible');
        await rm(root, { recursive: true, force: true });
      }
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
