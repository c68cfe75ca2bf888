import { describe, expect, it } from 'vitest';
import { parseHashesTxt } from '../../src/hashes/hashesTxt.js';
import { countLines, splitLines } from '../../src/hashes/sumLine.js';

/** The line rule as it was written before the indexOf walk: the reference to agree with. */
function byRegex(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const H = 'a'.repeat(64);

describe('hashes lines: the fast walk agrees with the regex split', () => {
  it('on every short mix of text, LF, CR and CRLF', () => {
    const alphabet = ['x', '\n', '\r', '\r\n'];
    for (let seed = 1; seed <= 3000; seed++) {
      let n = seed;
      let text = '';
      while (n > 0) {
        text += alphabet[n % 4];
        n = Math.floor(n / 4);
      }
      expect(splitLines(text)).toEqual(byRegex(text));
      expect(countLines(text)).toBe(byRegex(text).length);
    }
    expect(splitLines('')).toEqual([]);
  });

  it('reads plain, "*", "./" and CR-ended lines as the full parse does, and still locates a bad one', () => {
    expect(parseHashesTxt(`${H}  a/b.bin\r${H} *c.bin\r\n${H}  ./d.bin\n`, 'h.txt')).toEqual([
      { path: 'a/b.bin', sha256: H, line: 1 },
      { path: 'c.bin', sha256: H, line: 2 },
      { path: 'd.bin', sha256: H, line: 3 },
    ]);
    for (const bad of ['a//b', '/abs', 'a/./b', 'a/..', '..', '.', 'x/', 'a\\b', 'a\0b', './..']) {
      expect(() => parseHashesTxt(`${H}  ok.bin\n${H}  ${bad}\n`, 'h.txt')).toThrow(/h\.txt:2:/);
    }
    expect(() => parseHashesTxt(`${H}  ok.bin\n${H}  ./ok.bin\n`, 'h.txt')).toThrow(
      /h\.txt:2:67: duplicate path/,
    );
  });
});
