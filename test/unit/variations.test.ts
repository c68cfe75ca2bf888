import { describe, expect, it } from 'vitest';
import {
  appliedVariations,
  chooseVariations,
  describeChoice,
  REFERENCE,
  TIME_SHIFT,
  VARIATION_NAMES,
  variationFor,
  withOnly,
} from '../../src/plan/variations.js';
import { buildScript, containerCommand, VARIATION_END } from '../../src/runs/script.js';
import { UsageError } from '../../src/util/errors.js';
import { boardSchema } from '../../src/workspace/schema.js';

describe('run variations', () => {
  it('run 1 is the reference and varies nothing', () => {
    expect(appliedVariations(variationFor(1, 2), 2)).toEqual([]);
  });
  it('runs 2 and 3 together vary every default variation; build-path only when asked for', () => {
    const two = appliedVariations(variationFor(2, 2), 2);
    const three = appliedVariations(variationFor(3, 2), 2);
    expect(new Set([...two, ...three])).toEqual(new Set(VARIATION_NAMES.filter((n) => n !== 'build-path')));
    expect(two).toEqual(
      expect.arrayContaining(['time', 'kernel', 'num-cpus', 'fileordering', 'locales', 'timezone']),
    );
    expect(three).toContain('aslr');
    const all = chooseVariations({ vary: ['build-path'], cores: 2 });
    expect(appliedVariations(variationFor(2, 2, all), 2)).toContain('build-path');
    expect(variationFor(2, 2, all).buildPath).not.toBe(REFERENCE.buildPath);
  });
  it('run 2 moves the clock, shrinks the cpuset with the job count, and uses a locale the image carries', () => {
    const v = variationFor(2, 4);
    expect(v.timeShift).toBe(TIME_SHIFT);
    expect(v.timeShift).toBeGreaterThan(365 * 86400);
    expect([v.cpus, v.jobs]).toEqual([1, 1]);
    expect(variationFor(1, 4).jobs).toBe(4);
    expect(v.locale).toBe('fr_CH.UTF-8');
    expect(v.kernel).toBe('uname-2.6');
  });
  it('withOnly changes exactly one variation', () => {
    const varied = variationFor(2, 2);
    for (const name of appliedVariations(varied, 2)) {
      expect(appliedVariations(withOnly(variationFor(1, 2), varied, name), 2)).toEqual([name]);
    }
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
    expect(script).toContain("check 0 'out/*.rom' out/*.rom");
    expect(script).toContain("check 0 'fw/bios.bin' fw/bios.bin");
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

describe('choosing variations', () => {
  it('defaults: everything but build-path, which is off with its reason', () => {
    const c = chooseVariations({ cores: 2 });
    expect(c.on).toEqual(VARIATION_NAMES.filter((n) => n !== 'build-path'));
    expect(c.off['build-path']).toMatch(/opt-in/);
    expect(c.notApplied).toEqual({});
  });
  it('--no-vary removes, --vary adds, reprotest spellings (underscores) are accepted', () => {
    const c = chooseVariations({ noVary: ['time,kernel'], vary: ['build_path'], cores: 2 });
    expect(c.on).not.toContain('time');
    expect(c.on).not.toContain('kernel');
    expect(c.on).toContain('build-path');
    expect(c.off['time']).toMatch(/--no-vary/);
    const only = chooseVariations({ noVary: ['all'], vary: ['locales'], cores: 2 });
    expect(only.on).toEqual(['locales']);
    // What is off stays the reference: run 2 then varies nothing but the locale.
    expect(appliedVariations(variationFor(2, 2, only), 2)).toEqual(['locales']);
  });
  it('unknown names are a usage error (exit 2) that lists the valid ones', () => {
    let err: unknown;
    try {
      chooseVariations({ vary: ['time,clock'], cores: 2 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as UsageError).message).toContain('"clock"');
    expect((err as UsageError).hint).toContain(VARIATION_NAMES.join(', '));
  });
  it('a name in both --vary and --no-vary is refused', () => {
    expect(() => chooseVariations({ vary: ['time'], noVary: ['time'], cores: 2 })).toThrow(UsageError);
  });
  it('a board turns one off with its reason, even when --vary names it', () => {
    const c = chooseVariations({
      vary: ['time'],
      board: { time: { off: 'the banner shows the date' } },
      cores: 2,
    });
    expect(c.on).not.toContain('time');
    expect(c.off['time']).toBe('turned off by the board: the banner shows the date');
    expect(describeChoice(c)).toContain(
      'variation time off: turned off by the board: the banner shows the date',
    );
    expect(variationFor(2, 2, c).timeShift).toBe(0);
  });
  it('on one CPU the CPU count is recorded as not applied, never dropped silently', () => {
    const c = chooseVariations({ cores: 1 });
    expect(c.on).toContain('num-cpus');
    expect(c.notApplied['num-cpus']).toMatch(/1 CPU/);
    expect(variationFor(2, 1, c).cpus).toBe(0);
    expect(describeChoice(c).join('\n')).toMatch(/num-cpus not applied/);
  });
});

describe('container command', () => {
  const board = boardSchema.parse({ image: 'firmware', commands: ['make'], artifacts: ['out.bin'] });
  it('the reference runs the script directly: no setarch, no libfaketime', () => {
    const cmd = containerCommand(board, variationFor(1, 2));
    expect(cmd.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(cmd).toHaveLength(3);
    expect(cmd[2]).not.toContain('LD_PRELOAD');
    expect(cmd[2]).toContain(VARIATION_END);
  });
  it('kernel and ASLR go through setarch, each tried first and recorded when refused or missing', () => {
    const cmd = containerCommand(board, { ...variationFor(1, 2), kernel: 'uname-2.6', aslr: false });
    const wrapper = cmd[2] ?? '';
    expect(wrapper).toContain('setarch "$arch" --uname-2.6 true');
    expect(wrapper).toContain('setarch "$arch" -R true');
    expect(wrapper).toContain('reprorom-variation: aslr not applied: setarch -R was refused');
    expect(wrapper).toContain('kernel not applied: the image has no setarch');
    // The build script itself is passed as an argument, run by the same shell either way.
    expect(cmd[4]).toBe(buildScript(board, { ...variationFor(1, 2), kernel: 'uname-2.6', aslr: false }));
  });
  it('time preloads libfaketime for the commands only, SOURCE_DATE_EPOCH untouched', () => {
    const script = buildScript(board, variationFor(2, 2));
    const lines = script.split('\n');
    const preload = lines.findIndex((l) => l.includes('export LD_PRELOAD'));
    expect(preload).toBeGreaterThan(0);
    expect(preload).toBeLessThan(lines.indexOf('{'));
    expect(lines[preload]).toContain(`FAKETIME='+${TIME_SHIFT}'`);
    expect(lines.findIndex((l) => l.startsWith('unset LD_PRELOAD'))).toBeGreaterThan(lines.indexOf('} 3>&-'));
    expect(script).not.toContain('SOURCE_DATE_EPOCH');
  });
  it('a frozen clock (culprit search) stands still at an absolute time, plus the shift, for the commands only', () => {
    const frozen = buildScript(board, { ...variationFor(1, 2), frozenClock: 1700000000 });
    const lines = frozen.split('\n');
    const preload = lines.findIndex((l) => l.includes('export LD_PRELOAD'));
    expect(preload).toBeGreaterThan(0);
    expect(preload).toBeLessThan(lines.indexOf('{'));
    // The frozen instant is a file's mtime (one second on: reads land just before it), never a
    // time string libfaketime would parse in the process's own time zone.
    expect(lines[preload]).toContain('FAKETIME=% FAKETIME_FOLLOW_FILE=/build/.reprorom-clock');
    expect(frozen).toContain('touch -d @1700000001 /build/.reprorom-clock');
    expect(frozen).not.toMatch(/FAKETIME_FMT|FAKETIME='\d/);
    expect(lines.findIndex((l) => l.startsWith('unset LD_PRELOAD'))).toBeGreaterThan(lines.indexOf('} 3>&-'));
    const shifted = buildScript(board, { ...variationFor(2, 2), frozenClock: 1700000000 });
    expect(shifted).toContain(`touch -d @${1700000000 + TIME_SHIFT + 1} `);
    // A run without it keeps the real clock: nothing preloaded.
    expect(buildScript(board, variationFor(1, 2))).not.toContain('LD_PRELOAD');
  });
  it('the build path moves the work folder and where artifacts are collected', () => {
    const v = { ...variationFor(1, 2), buildPath: '/build/variant/path/src' };
    const script = buildScript(boardSchema.parse({ ...board, workdir: 'fw' }), v);
    expect(script).toContain("cd '/build/variant/path/src/fw'");
    expect(script).toContain("cd '/build/variant/path/src'\n");
  });
});
