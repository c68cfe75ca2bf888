import { describe, expect, it } from 'vitest';
import { appliedVariations, variationFor } from '../../src/plan/variations.js';
import { buildScript } from '../../src/runs/script.js';
import { boardSchema } from '../../src/workspace/schema.js';

describe('run variations', () => {
  it('run 1 is the reference and varies nothing', () => {
    expect(appliedVariations(variationFor(1, 2), 2)).toEqual([]);
  });
  it('run 2 varies every dimension reprotest varies', () => {
    expect(appliedVariations(variationFor(2, 2), 2).sort()).toEqual(
      ['fileOrder', 'hostname', 'jobs', 'locale', 'tz', 'uid', 'umask'].sort(),
    );
  });
  it('runs are distinct from each other', () => {
    const hosts = [1, 2, 3, 4, 5].map((i) => variationFor(i, 2).hostname);
    expect(new Set(hosts).size).toBe(5);
  });
});

describe('build script', () => {
  const board = boardSchema.parse({
    image: 'firmware',
    commands: ['make -C fw', "echo 'done'"],
    artifacts: ['out/*.rom', 'fw/bios.bin'],
    workdir: 'fw',
  });
  it('runs the commands in the work folder under the run umask and lists artifacts', () => {
    const script = buildScript(board, variationFor(2, 2));
    expect(script).toContain('umask 0002');
    expect(script).toContain("cd '/build/src/fw'");
    expect(script.indexOf('make -C fw')).toBeLessThan(script.indexOf("echo 'done'"));
    expect(script).toContain('for f in out/*.rom;');
    expect(script).toContain('for f in fw/bios.bin;');
  });
  it('hides the channel from the commands: before them only the header, after them the artifacts', () => {
    const script = buildScript(board, variationFor(1, 1));
    const lines = script.split('\n');
    const open = lines.indexOf('{');
    const close = lines.indexOf('} 3>&-');
    expect(lines.indexOf('exec 3>&1 1>&2')).toBeLessThan(open);
    expect(lines.slice(open + 1, close)).toEqual(['make -C fw', "echo 'done'"]);
    const before = lines.slice(0, open).filter((l) => l.includes('>&3'));
    expect(before.map((l) => l.match(/printf '(reprorom:\w+)\\n' >&3/)?.[1])).toEqual([
      'reprorom:tar',
      'reprorom:list',
    ]);
    // The commands' stdin is not the channel's input either.
    expect(lines.indexOf('exec </dev/null')).toBeLessThan(open);
  });
});
