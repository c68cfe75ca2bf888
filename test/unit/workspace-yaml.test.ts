/** Position mapping: every FILE:LINE:COL comes from the YAML document, for any layout. */
import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8 } from '../../src/util/utf8.js';
import { MAX_DEPTH, type ParsedYaml, parseYamlFile } from '../../src/workspace/yamlFile.js';

/** A test timeout that only a quadratic (or worse) blow-up reaches; speed targets live in bench/. */
const BLOW_UP = 180_000;

function parse(text: string | Buffer): ParsedYaml {
  const r = parseYamlFile('f.yaml', Buffer.isBuffer(text) ? text : Buffer.from(text));
  if (!r.ok) throw new Error(`expected to parse, got ${JSON.stringify(r.problems)}`);
  return r.parsed;
}

function problemsOf(text: string | Buffer) {
  const r = parseYamlFile('f.yaml', Buffer.isBuffer(text) ? text : Buffer.from(text));
  if (r.ok) throw new Error('expected problems');
  return r.problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
}

describe('YAML position mapping', () => {
  const doc = [
    '# a comment line',
    'pin: nixpkgs',
    'packages:',
    '  - gcc',
    '  -   make',
    'env: { LANG: C.UTF-8, TZ: UTC }',
    'user:',
    '  uid: 1000',
    'description: |',
    '  several',
    '  lines',
    'last: [a, [b, c]]',
    '',
  ].join('\n');
  const p = parse(doc);

  it.each([
    [['pin'], 2, 6],
    [['packages'], 4, 3],
    [['packages', 0], 4, 5],
    [['packages', 1], 5, 7],
    [['env', 'LANG'], 6, 14],
    [['env', 'TZ'], 6, 27],
    [['user', 'uid'], 8, 8],
    [['description'], 9, 14],
    [['last', 1, 1], 12, 15],
  ] as const)('value at %j is at %i:%i', (path, line, col) => {
    expect(p.at(path)).toEqual({ line, col });
  });

  it.each([
    [[], 'user', 7, 1],
    [['user'], 'uid', 8, 3],
    [['env'], 'TZ', 6, 23],
  ] as const)('key at %j / %s is at %i:%i', (path, key, line, col) => {
    expect(p.keyAt(path, key)).toEqual({ line, col });
  });

  it('a path that does not exist falls back to its closest existing parent', () => {
    expect(p.at(['user', 'name'])).toEqual({ line: 8, col: 3 });
    expect(p.at(['nothing', 'here'])).toEqual({ line: 2, col: 1 });
    expect(p.keyAt(['user'], 'name')).toEqual({ line: 8, col: 3 });
  });

  it('gives the plain JavaScript value', () => {
    expect(p.value).toMatchObject({ pin: 'nixpkgs', packages: ['gcc', 'make'], user: { uid: 1000 } });
  });

  it('counts columns in characters, not bytes, and ignores a BOM and CRLF line ends', () => {
    const q = parse(Buffer.from('\uFEFFdescription: "héhé"\r\npin: x\r\nenv: {é: 1, B: 2}\r\n'));
    expect(q.at(['pin'])).toEqual({ line: 2, col: 6 });
    expect(q.at(['env', 'B'])).toEqual({ line: 3, col: 16 });
  });
});

describe('YAML problems', () => {
  it.each([
    ['', '1:1: file is empty, expected a YAML mapping'],
    ['# only a comment\n', '1:1: file is empty, expected a YAML mapping'],
    ['---\n...\n', '1:1: file is empty, expected a YAML mapping'],
    ['- a\n- b\n', '1:1: the top level is not a mapping, expected "key: value" lines'],
    ['\n\n  just text\n', '3:3: the top level is not a mapping, expected "key: value" lines'],
    ['a: 1\nb:\n  c: 1\n  c: 2\n', '4:3: duplicate key "c", expected each key once in a mapping'],
    [
      'a: 1\n---\nb: 2\n',
      '2:1: file holds more than one YAML document (a second "---"), expected exactly one',
    ],
    ['a: [1\n', expect.stringMatching(/^\d+:\d+: invalid YAML \(.+\), expected valid YAML syntax$/)],
    [
      'a: *nothing\n',
      '1:4: alias "*nothing" refers to no anchor, expected "&nothing" to be defined before it',
    ],
    ['a: *p\nb: [&p x]\n', '1:4: alias "*p" refers to no anchor, expected "&p" to be defined before it'],
    ['a: 1\n? [x]\n: 2\n', '2:3: key is a list or mapping, expected a plain name such as "packages"'],
  ])('%j → %s', (text, expected) => {
    expect(problemsOf(text)).toEqual([expected]);
  });

  it(`refuses nesting deeper than ${MAX_DEPTH} levels at the first too-deep node`, () => {
    const depth = MAX_DEPTH + 1;
    const text = `a: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
    expect(problemsOf(text)).toEqual([
      `1:${3 + MAX_DEPTH}: nested more than ${MAX_DEPTH} levels deep, expected a shallow mapping`,
    ]);
    // One level less is fine.
    expect(
      parseYamlFile('f.yaml', Buffer.from(`a: ${'['.repeat(depth - 2)}${']'.repeat(depth - 2)}\n`)).ok,
    ).toBe(true);
  });

  it('a small anchor and alias is fine; an exponential one is refused at the first alias', () => {
    expect(parse('a: &x v\nb: [*x, *x]\n').value).toEqual({ a: 'v', b: ['v', 'v'] });
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const l of 'bcdefgh')
      bomb.push(
        `${l}: &${l} [${Array(10)
          .fill(`*${String.fromCharCode(l.charCodeAt(0) - 1)}`)
          .join(', ')}]`,
      );
    expect(problemsOf(bomb.join('\n'))).toEqual([
      '2:8: too many alias expansions, expected a document without alias bombs (at most 100)',
    ]);
  });

  // The timeout guards against blow-up (the quadratic check took many minutes); speed lives in bench/.
  it('200 000 aliases are refused by count, at the first one over the limit', { timeout: BLOW_UP }, () => {
    const problems = problemsOf(`a: &x v\nb: [${Array(200_000).fill('*x').join(', ')}]\n`);
    expect(problems).toEqual([`2:${5 + 4 * 100}: file uses 200000 aliases, expected at most 100`]);
  });

  it('100 000 distinct keys with one duplicate are checked', { timeout: BLOW_UP }, () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => `k${i}: v`);
    keys.push('k7: again');
    const problems = problemsOf(`${keys.join('\n')}\n`);
    expect(problems).toEqual(['100001:1: duplicate key "k7", expected each key once in a mapping']);
  });

  it('finds the first byte of malformed UTF-8', () => {
    expect(firstInvalidUtf8(Buffer.from('plain ascii'))).toBeUndefined();
    expect(firstInvalidUtf8(Buffer.from('é€😀'))).toBeUndefined();
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc3]))).toBe(1); // truncated
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0xaf]))).toBe(1); // overlong "/"
    expect(firstInvalidUtf8(Buffer.from([0xed, 0xb0, 0x80]))).toBe(0); // surrogate
    expect(firstInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe(0); // above U+10FFFF
    expect(firstInvalidUtf8(Buffer.from([0x41, 0x80]))).toBe(1); // lone continuation
  });
});
