/**
 * The corners of `compare`'s inputs and output (issue 19, item 5): standard input (`-`),
 * BSD `sha256sum --tag` lines, a file that is no sha256sum file at all, and a reader
 * that closes the pipe early (`| head -1`). The CLI runs from dist/ as a user would run it.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { formatManifest, type ManifestInput } from '../../src/hashes/runManifest.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { sampleManifest } from '../helpers/manifestFixture.js';
import { CLI, expectNoStack } from './support.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});
async function scratch(name: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `rr-compare-inputs-${name}-`));
  temps.push(d);
  return d;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** The CLI with `input` on its standard input. */
async function withStdin(args: string[], input: string, cwd: string) {
  const r = await execa(process.execPath, [CLI, ...args], {
    cwd,
    env: { NO_COLOR: '1' },
    input,
    reject: false,
    timeout: 120_000,
  });
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
}

interface JsonOut {
  ok: boolean;
  artifacts: Array<{ key: string; verdict: string }>;
  inputs: Array<{ label: string }>;
}

describe('compare inputs and output', () => {
  it('compare -: a hashes list on standard input is compared like a file; "-" twice is refused (exit 2)', async () => {
    const root = await scratch('stdin');
    const lines = `${sha('bios')}  bios.bin\n${sha('vga')}  vga.bin\n`;
    await writeFile(join(root, 'b.txt'), lines);
    const same = await withStdin(['compare', '-', 'b.txt', '--json'], lines, root);
    expect(same.exitCode, same.stderr).toBe(0);
    const json = JSON.parse(same.stdout) as JsonOut;
    expect(json.artifacts.map((a) => a.key)).toEqual(['bios.bin', 'vga.bin']);
    expect(json.inputs.map((i) => i.label)).toContain('(stdin)');
    // A differing line on stdin is a mismatch, named in the text table.
    const other = await withStdin(
      ['compare', 'b.txt', '-'],
      `${sha('bios')}  bios.bin\n${sha('other')}  vga.bin\n`,
      root,
    );
    expect(other.exitCode, other.stderr).toBe(1);
    expect(other.stdout).toMatch(/^vga\.bin\s+mismatch/m);
    expect(other.stdout).toMatch(/disagrees: \(stdin\) has/);
    // Errors on stdin are located at "(stdin)".
    const bad = await withStdin(
      ['compare', '-', 'b.txt'],
      `${sha('a')}  bios.bin\n${sha('b')} vga.bin\n`,
      root,
    );
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^reprorom: \(stdin\):2:66: expected two spaces/m);
    expectNoStack(bad.stderr);
    const twice = await withStdin(['compare', '-', '-'], lines, root);
    expect(twice.exitCode).toBe(2);
    expect(twice.stderr).toMatch(/"-" \(standard input\) is given more than once/);
  });

  it('compare -: a culprit rerun or a restored run on standard input stays one, as from a file: never counted as another agreeing run', async () => {
    const root = await scratch('stdin-marked');
    await mkdir(join(root, 'a'));
    await writeFile(join(root, 'a', 'manifest.json'), formatManifest(sampleManifest()));
    const second = (over: Partial<ManifestInput['run']>) =>
      formatManifest(sampleManifest({ run: { id: '20261122-111606-fa7ea1', index: 2, ...over } }));
    // The same bytes from a plain second run: two runs agree.
    const plain = await withStdin(['compare', 'a/manifest.json', '-', '--json'], second({}), root);
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect((JSON.parse(plain.stdout) as JsonOut).artifacts[0]?.verdict).toBe('reproducible');
    const marked = [
      { culpritSearch: { of: '20261122-111606-fa7ea0', isolates: 'reference' } },
      { restored: { key: sha('store key') } },
    ];
    for (const over of marked) {
      const r = await withStdin(['compare', 'a/manifest.json', '-', '--json'], second(over), root);
      expect(r.exitCode, JSON.stringify(over)).not.toBe(0);
      expect(r.stdout, JSON.stringify(over)).not.toContain('"reproducible"');
    }
  });

  it('compare: BSD "SHA256 (file) = hex" lines (sha256sum --tag) are read like plain lines; other algorithms are named', async () => {
    const root = await scratch('tag');
    await writeFile(join(root, 'plain.txt'), `${sha('bios')}  bios.bin\n${sha('vga')}  ./out/vga (1).bin\n`);
    await writeFile(
      join(root, 'tag.txt'),
      `SHA256 (bios.bin) = ${sha('bios')}\nSHA256 (./out/vga (1).bin) = ${sha('vga')}\n`,
    );
    const r = await runCli(['compare', 'plain.txt', 'tag.txt', '--json'], { cwd: root });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as JsonOut).artifacts.map((a) => a.key)).toEqual([
      'bios.bin',
      'vga (1).bin',
    ]);
    // A tag line whose hash differs is a mismatch, not a parse error.
    await writeFile(
      join(root, 'tag2.txt'),
      `SHA256 (bios.bin) = ${sha('x')}\nSHA256 (out/vga (1).bin) = ${sha('vga')}\n`,
    );
    const m = await runCli(['compare', 'plain.txt', 'tag2.txt'], { cwd: root });
    expect(m.exitCode, m.stderr).toBe(1);
    expect(m.stdout).toMatch(/^bios\.bin\s+mismatch/m);
    await writeFile(
      join(root, 'md5.txt'),
      `${sha('bios')}  bios.bin\nMD5 (vga.bin) = 0123456789abcdef0123456789abcdef\n`,
    );
    const md5 = await runCli(['compare', 'plain.txt', 'md5.txt'], { cwd: root });
    expect(md5.exitCode).toBe(2);
    expect(md5.stderr).toMatch(/md5\.txt:2:1: MD5 tag line: only SHA256 hashes are compared/);
    await writeFile(join(root, 'short.txt'), `${sha('bios')}  bios.bin\nSHA256 (vga.bin) = abc\n`);
    const short = await runCli(['compare', 'plain.txt', 'short.txt'], { cwd: root });
    expect(short.exitCode).toBe(2);
    expect(short.stderr).toMatch(/short\.txt:2:20: sha256 "abc": expected 64 lowercase hex digits/);
    expectNoStack(short.stderr);
  });

  it('compare README.md package.json: one "this is not a sha256sum file" message per file, not hundreds of lines; many bad lines are capped', async () => {
    const r = await runCli(['compare', 'README.md', 'package.json'], { cwd: repoRoot });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(
      /^reprorom: \S*README\.md:\d+:\d+: this is not a sha256sum file: its first 3 lines are not/m,
    );
    // The message and its hint: two lines, not one per line of the file.
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
    expectNoStack(r.stderr);
    const root = await scratch('bad');
    // Good lines first, then 500 bad ones: each of the first 20 located, the rest counted on one line.
    const good = Array.from({ length: 5 }, (_, i) => `${sha(String(i))}  f${i}.bin\n`).join('');
    const bad = Array.from({ length: 500 }, (_, i) => `not a hash line ${i}\n`).join('');
    await writeFile(join(root, 'a.txt'), good + bad);
    await writeFile(join(root, 'b.txt'), good);
    const many = await runCli(['compare', 'a.txt', 'b.txt'], { cwd: root });
    expect(many.exitCode).toBe(2);
    const lines = many.stderr.trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    expect(many.stderr).toMatch(/a\.txt:6:1: sha256 "not"/);
    expect(many.stderr).toMatch(/a\.txt:26:1: 480 more bad line\(s\) from here on, not listed/);
    // A ROM (binary) is refused as not UTF-8 in one line, a JSON file that is no manifest as not a manifest.
    await writeFile(join(root, 'rom.bin'), Buffer.from([0x55, 0xaa, 0xff, 0xfe, 0x00, 0x01]));
    const rom = await runCli(['compare', 'rom.bin', 'b.txt'], { cwd: root });
    expect(rom.exitCode).toBe(2);
    expect(rom.stderr.trim().split('\n')).toHaveLength(2);
  });

  it('compare … piped into head -1: a reader that closes the pipe early stops the command quietly (exit 141, no EPIPE stack trace)', async () => {
    const root = await scratch('epipe');
    // Far more output than a pipe holds (64 KiB), so the write is still going when head exits.
    const n = 20_000;
    const text = Array.from(
      { length: n },
      (_, i) => `${sha(String(i))}  f${String(i).padStart(6, '0')}.bin\n`,
    ).join('');
    await writeFile(join(root, 'a.txt'), text);
    // Every line differs: the table lists every row (it leaves out only reproducible ones past 1,000).
    await writeFile(
      join(root, 'b.txt'),
      text.replace(/^[0-9a-f]{64}/gm, (h) => `0${h.slice(1)}`),
    );
    for (const json of [false, true]) {
      const r = await execa(
        'bash',
        [
          '-c',
          `"${process.execPath}" "${CLI}" compare a.txt b.txt ${json ? '--json' : ''} 2>err.txt | head -1; echo "rc=\${PIPESTATUS[0]}"`,
        ],
        { cwd: root, env: { NO_COLOR: '1' }, reject: false },
      );
      const err = await readFile(join(root, 'err.txt'), 'utf8');
      expect(err, `--json ${json}`).toBe('');
      const [first, rc] = String(r.stdout).split('\n');
      expect(first).toMatch(json ? /^\{/ : /^ARTIFACT\s+VERDICT/);
      expect(rc).toBe('rc=141');
    }
  });
});
