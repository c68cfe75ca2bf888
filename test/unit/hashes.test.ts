import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatHashesTxt,
  parseHashesTxt,
  readHashesTxt,
  writeHashesTxt,
} from '../../src/hashes/hashesTxt.js';
import { formatManifest, parseManifest, readManifest, writeManifest } from '../../src/hashes/runManifest.js';
import { BuildFailedError, ConfigError, ExitCode } from '../../src/util/errors.js';
import { sha256Bytes, sha256File } from '../../src/util/sha256.js';
import { sampleManifest } from '../fixtures/hashes/makeRun.js';

const H1 = sha256Bytes('one');
const H2 = sha256Bytes('two');

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(ExitCode.config);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('sha256File', () => {
  it('streams a multi-chunk file to the same digest as hashing it whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-sha-'));
    const data = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    await writeFile(join(dir, 'big.bin'), data);
    expect(await sha256File(join(dir, 'big.bin'))).toBe(sha256Bytes(data));
    expect(execFileSync('sha256sum', [join(dir, 'big.bin')], { encoding: 'utf8' }).slice(0, 64)).toBe(
      sha256Bytes(data),
    );
  });
});

describe('reprorom hashes.txt', () => {
  it('writes sorted sha256sum lines that the real `sha256sum -c` accepts, and reads them back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-hashes-'));
    await mkdir(join(dir, 'artifacts', 'sub'), { recursive: true });
    const files = { 'artifacts/z.rom': 'zzz', 'artifacts/a.bin': 'aaa', 'artifacts/sub/b b.bin': 'bbb' };
    for (const [p, d] of Object.entries(files)) await writeFile(join(dir, p), d);
    const artifacts = Object.entries(files).map(([path, d]) => ({ path, sha256: sha256Bytes(d) }));
    await writeHashesTxt(dir, artifacts);
    const text = await readFile(join(dir, 'hashes.txt'), 'utf8');
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(66)),
    ).toEqual(['artifacts/a.bin', 'artifacts/sub/b b.bin', 'artifacts/z.rom']);
    expect(text).toMatch(/^[0-9a-f]{64} {2}artifacts\/a\.bin\n/);
    const out = execFileSync('sha256sum', ['-c', 'hashes.txt'], { cwd: dir, encoding: 'utf8' });
    expect(out).toContain('artifacts/sub/b b.bin: OK');
    const back = await readHashesTxt(join(dir, 'hashes.txt'));
    expect(back.map(({ path, sha256 }) => ({ path, sha256 }))).toEqual(
      [...artifacts].sort((a, b) => (a.path < b.path ? -1 : 1)),
    );
  });

  it('`sha256sum -c` fails on the written file once an artifact is changed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-hashes-'));
    await mkdir(join(dir, 'artifacts'));
    await writeFile(join(dir, 'artifacts/x.bin'), 'x');
    await writeHashesTxt(dir, [{ path: 'artifacts/x.bin', sha256: sha256Bytes('x') }]);
    await writeFile(join(dir, 'artifacts/x.bin'), 'y');
    expect(() =>
      execFileSync('sha256sum', ['-c', '--quiet', 'hashes.txt'], { cwd: dir, stdio: 'pipe' }),
    ).toThrow();
  });

  it('accepts binary-mode markers written by `sha256sum -b`', () => {
    expect(parseHashesTxt(`${H1} *a.bin\n`, 'h.txt')).toEqual([{ path: 'a.bin', sha256: H1, line: 1 }]);
  });

  it.each([
    [
      'a hash of the wrong length',
      `${H1.slice(0, 60)}  a.bin\n`,
      1,
      1,
      /expected 64 lowercase hex digits, found 60/,
    ],
    ['uppercase hex', `${H1.toUpperCase()}  a.bin\n`, 1, 1, /found uppercase hex/],
    ['one space only', `${H1} a.bin\n`, 1, 66, /two spaces/],
    ['path traversal', `${H1}  a.bin\n${H2}  ../etc/passwd\n`, 2, 67, /contains "\.\."/],
    ['an absolute path', `${H1}  /etc/passwd\n`, 1, 67, /is absolute/],
    ['a NUL byte', `${H1}  a\0b.bin\n`, 1, 68, /NUL byte/],
    [
      'a duplicate path',
      `${H1}  a.bin\n${H2}  a.bin\n`,
      2,
      67,
      /duplicate path "a\.bin" \(first on line 1\)/,
    ],
    ['an empty file', '', 1, 1, /file is empty/],
  ])('rejects %s with a located one-line error', (_what, text, line, col, message) => {
    const err = configError(() => parseHashesTxt(text, 'run/hashes.txt'));
    const first = err.problems[0];
    expect(first).toMatchObject({ file: 'run/hashes.txt', line, col });
    expect(first?.message).toMatch(message);
    expect(err.message.split('\n')[0]).toMatch(new RegExp(`^run/hashes\\.txt:${line}:${col}: `));
  });

  it('refuses to write unsafe paths or bad hashes', () => {
    expect(() => formatHashesTxt([{ path: '../x', sha256: H1 }])).toThrow(BuildFailedError);
    expect(() => formatHashesTxt([{ path: 'x', sha256: 'ABC' }])).toThrow(BuildFailedError);
    expect(() =>
      formatHashesTxt([
        { path: 'x', sha256: H1 },
        { path: 'x', sha256: H2 },
      ]),
    ).toThrow(/listed twice/);
  });
});

describe('manifest.json', () => {
  const artifacts = [
    { path: 'artifacts/z.rom', sha256: H2, size: 3 },
    { path: 'artifacts/a.bin', sha256: H1, size: 3 },
  ];

  it('round-trips through the writer and reader, with canonical sorted output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rr-manifest-'));
    const input = sampleManifest({ artifacts, env: { ZED: '1', ALPHA: '2' } });
    await writeManifest(dir, input);
    const text = await readFile(join(dir, 'manifest.json'), 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    const back = await readManifest(join(dir, 'manifest.json'));
    expect(back.artifacts.map((a) => a.path)).toEqual(['artifacts/a.bin', 'artifacts/z.rom']);
    expect(Object.keys(back.env)).toEqual(['ALPHA', 'ZED']);
    expect(back.board).toBe('seabios');
    // Same value in, same bytes out: no timestamps, no key-order drift.
    expect(formatManifest(back)).toBe(text);
    expect(text).not.toMatch(/"(time|date|created|timestamp)"/i);
  });

  function withArtifacts(list: unknown[]): string {
    return formatManifest(sampleManifest()).replace(
      '"artifacts": []',
      `"artifacts": ${JSON.stringify(list, null, 2)}`,
    );
  }

  it('locates a bad sha256 by JSON path and line', () => {
    const text = withArtifacts([
      ...artifacts,
      { path: 'artifacts/c.bin', sha256: H1.toUpperCase(), size: 1 },
    ]);
    const err = configError(() => parseManifest(text, 'manifest.json'));
    expect(err.problems).toHaveLength(1);
    const p = err.problems[0]!;
    expect(p.message).toBe('artifacts[2].sha256: expected 64 lowercase hex digits');
    expect(text.split('\n')[p.line - 1]).toContain(H1.toUpperCase());
  });

  it.each([
    [
      'a duplicate artifact path',
      [artifacts[0], artifacts[0]],
      /artifacts\[1\]\.path: duplicate artifact path "artifacts\/z\.rom"/,
    ],
    [
      'path traversal',
      [{ path: 'artifacts/../../x', sha256: H1, size: 1 }],
      /artifacts\[0\]\.path: .*contains "\.\."/,
    ],
    ['an absolute path', [{ path: '/etc/passwd', sha256: H1, size: 1 }], /artifacts\[0\]\.path: .*absolute/],
    [
      'a NUL byte in a path',
      [{ path: 'a\u0000b', sha256: H1, size: 1 }],
      /artifacts\[0\]\.path: path contains a NUL byte/,
    ],
    [
      'a short hash',
      [{ path: 'a', sha256: 'abc', size: 1 }],
      /artifacts\[0\]\.sha256: expected 64 lowercase hex digits/,
    ],
  ])('rejects %s', (_what, list, message) => {
    const err = configError(() => parseManifest(withArtifacts(list), 'run/manifest.json'));
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/^run\/manifest\.json:\d+:\d+: /);
  });

  it('reports invalid JSON with its line and column', () => {
    const err = configError(() => parseManifest('{\n  "schema": "reprorom.manifest/v1",\n}\n', 'm.json'));
    expect(err.problems[0]).toMatchObject({ file: 'm.json', line: 3, col: 1 });
    expect(err.problems[0]?.message).toMatch(/^invalid JSON/);
  });

  it('rejects unknown schema versions in one line, and wall-clock fields', () => {
    const v9 = formatManifest(sampleManifest()).replace('reprorom.manifest/v1', 'reprorom.manifest/v9');
    const err = configError(() => parseManifest(v9, 'm.json'));
    expect(err.problems).toHaveLength(1);
    expect(err.message).toMatch(
      /not a reprorom manifest \(schema "reprorom\.manifest\/v9"\), expected "schema": "reprorom\.manifest\/v1"/,
    );
    const timed = formatManifest(sampleManifest()).replace(
      '"durationMs"',
      '"builtAt": "2025-01-01",\n  "durationMs"',
    );
    expect(configError(() => parseManifest(timed, 'm.json')).message).toMatch(/builtAt/);
  });
});
