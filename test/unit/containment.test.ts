import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkRelativeName,
  isWithin,
  linkAbove,
  linkStaysInside,
  safeJoin,
} from '../../src/archive/containment.js';

const root = '/work/out';

describe('the one containment check', () => {
  it.each([
    ['..', 'parent'],
    ['../evil', 'parent'],
    ['a/../../evil', 'parent'],
    ['a/..', 'parent'],
    ['..\\evil', 'parent'],
    ['a\\..\\..\\evil', 'parent'],
    ['/etc/passwd', 'absolute'],
    ['//etc/passwd', 'absolute'],
    ['a\0b', 'nul'],
    ['bios.bin\0.txt', 'nul'],
  ])('refuses %j (%s), and safeJoin places it nowhere', (name, problem) => {
    expect(checkRelativeName(name)).toEqual({ ok: false, problem });
    expect(safeJoin(root, name)).toBeUndefined();
  });

  it('places plain, dotted, long and unicode names under the root', () => {
    const long = `${'d'.repeat(255)}/${'f'.repeat(255)}`;
    const deep = Array.from({ length: 200 }, (_, i) => `d${i}`).join('/');
    for (const name of ['a', 'rom/bios.bin', './rom//bios.bin', '..a', 'a..', '...', long, deep]) {
      const at = safeJoin(root, name);
      expect(at, name).toBe(join(root, name));
      expect(isWithin(root, at as string)).toBe(true);
    }
    // Look-alikes of "." and "/" are ordinary characters: U+2024 ONE DOT LEADER, U+FF0F FULLWIDTH SOLIDUS.
    for (const name of [
      '\u2024\u2024',
      '\u2024\u2024/x',
      'a\uff0f..\uff0fb',
      'ünïcødé/ß.bin',
      '固件/rom.bin',
    ])
      expect(safeJoin(root, name), name).toBe(join(root, name));
    // A backslash that makes no ".." is an ordinary character on this system.
    expect(safeJoin(root, 'a\\b')).toBe(join(root, 'a\\b'));
  });

  it('is strict about empty and "." segments only when asked (names compared as written)', () => {
    expect(checkRelativeName('')).toEqual({ ok: true, parts: [] });
    expect(checkRelativeName('', { normalized: true })).toEqual({ ok: false, problem: 'empty' });
    expect(checkRelativeName('./a//b/')).toEqual({ ok: true, parts: ['a', 'b'] });
    for (const name of ['./a', 'a//b', 'a/', 'a/./b'])
      expect(checkRelativeName(name, { normalized: true }), name).toEqual({
        ok: false,
        problem: 'not-normalized',
      });
    expect(checkRelativeName('a/b', { normalized: true })).toEqual({ ok: true, parts: ['a', 'b'] });
  });

  it('tells whether an absolute path lies within a root', () => {
    expect(isWithin(root, root)).toBe(true);
    expect(isWithin(root, `${root}/a/b`)).toBe(true);
    expect(isWithin(root, '/work/outside')).toBe(false);
    expect(isWithin(root, '/work/out-of-it')).toBe(false);
    expect(isWithin(root, '/work')).toBe(false);
    expect(isWithin(root, `${root}/..foo`)).toBe(true);
  });
});

describe('symlink targets', () => {
  it('accepts targets that resolve inside and refuses the others', () => {
    expect(linkStaysInside('rom/latest', 'bios.bin')).toBe(true);
    expect(linkStaysInside('a/b/l', '../../c')).toBe(true);
    expect(linkStaysInside('l', '.')).toBe(true);
    expect(linkStaysInside('a/l', '../..')).toBe(false);
    expect(linkStaysInside('l', '..')).toBe(false);
    expect(linkStaysInside('l', '/etc/passwd')).toBe(false);
    expect(linkStaysInside('l', '')).toBe(false);
    expect(linkStaysInside('l', 'a\0b')).toBe(false);
    expect(linkStaysInside('a/l', 'x/../../../etc')).toBe(false);
  });

  it('follows the links already there, as the kernel would', () => {
    // `s -> .` then `t -> s/../x` reads as `x` but resolves to ../x.
    expect(linkStaysInside('t', 's/../x', new Map([['s', '.']]))).toBe(false);
    expect(linkStaysInside('t', 's/../x', new Map([['s', 'deep/er']]))).toBe(true);
    expect(linkStaysInside('t', 's/x', new Map([['s', 'u']]))).toBe(true);
    // A loop of links never resolves.
    const loop = new Map([
      ['a', 'b'],
      ['b', 'a'],
    ]);
    expect(linkStaysInside('t', 'a/x', loop)).toBe(false);
  });

  it('names the symlink a path would be written through', () => {
    const links = new Set(['a/l']);
    expect(linkAbove('a/l/x', links)).toBe('a/l');
    expect(linkAbove('a/l', links)).toBeUndefined();
    expect(linkAbove('a/lx/y', links)).toBeUndefined();
  });
});
