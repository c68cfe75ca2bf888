/**
 * Property: whatever bytes a workspace file holds, loading never throws; every
 * problem is one line with a real position and says what was expected.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/sources/order.js';
import { loadWorkspace } from '../../src/workspace/load.js';
import { repoRoot } from '../helpers/cli.js';

const SEEDS = 300;
/** Bytes YAML gives meaning to, plus a few hostile ones. */
const SPICE = [...':-[]{}&*!|>#%@`\'",?\n\t \\', '\0', '\u00e9', '\u2028', '\uFEFF'];

function mutate(text: string, rand: () => number): Buffer {
  const bytes = [...Buffer.from(text)];
  const edits = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (bytes.length + 1));
    const kind = rand();
    if (kind < 0.3) bytes.splice(at, 1);
    else if (kind < 0.5) bytes.splice(at, 0, Math.floor(rand() * 256));
    else if (kind < 0.8) bytes.splice(at, 0, ...Buffer.from(SPICE[Math.floor(rand() * SPICE.length)]!));
    else bytes.splice(at, Math.floor(rand() * 8), ...Buffer.from(text.slice(0, Math.floor(rand() * 40))));
  }
  return Buffer.from(bytes);
}

describe('workspace fuzzing', () => {
  it(`${SEEDS} mutated copies of the real files never throw and always give well-formed problems`, async () => {
    const originals = {
      'pins/nixpkgs.yaml': await readFile(join(repoRoot, 'pins/nixpkgs.yaml'), 'utf8'),
      'images/heads.yaml': await readFile(join(repoRoot, 'images/heads.yaml'), 'utf8'),
      'boards/seabios-qemu.yaml': await readFile(join(repoRoot, 'boards/seabios-qemu.yaml'), 'utf8'),
    };
    const ws = await mkdtemp(join(tmpdir(), 'rr-fuzz-'));
    for (const d of ['pins', 'images', 'boards']) await mkdir(join(ws, d));
    await writeFile(
      join(ws, 'pins/nixpkgs-sdcc.yaml'),
      await readFile(join(repoRoot, 'pins/nixpkgs-sdcc.yaml'), 'utf8'),
    );
    await writeFile(join(ws, 'images/firmware.yaml'), 'pin: nixpkgs\npackages: [gcc]\n');
    let rejected = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const rand = mulberry32(seed);
      for (const [file, text] of Object.entries(originals)) {
        await writeFile(join(ws, file), rand() < 0.7 ? mutate(text, rand) : text);
      }
      const { problems } = await loadWorkspace(ws).catch((err: unknown) => {
        throw new Error(`seed ${seed}: loadWorkspace threw ${String(err)}`);
      });
      if (problems.length > 0) rejected++;
      for (const p of problems) {
        const context = `seed ${seed}: ${JSON.stringify(p)}`;
        expect(p.line, context).toBeGreaterThanOrEqual(1);
        expect(p.col, context).toBeGreaterThanOrEqual(1);
        expect(p.message, context).toMatch(/expected/);
        expect(`${p.file}:${p.message}`, context).not.toMatch(/[\n\r\u2028\u2029]/);
      }
    }
    await rm(ws, { recursive: true, force: true });
    // The mutations must actually break files, or this proves nothing.
    expect(rejected).toBeGreaterThan(SEEDS / 3);
  });
});
