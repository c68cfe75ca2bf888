/**
 * Heads-grade comparison (issue 20, item 4): the cpio member blocks of Heads' hashes.txt are
 * compared member by member, and two initrd cpio archives (newc, plain or gzip) are explained
 * member by member. Archives are written here by a small newc writer, as the kernel's
 * gen_init_cpio writes them.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { allArtifacts } from '../../src/compare/compare.js';
import { diffCpio, readCpio } from '../../src/compare/cpio.js';
import { compareInputs, comparisonJson } from '../../src/compare/outcome.js';
import { renderProblems } from '../../src/compare/table.js';
import { makeRun } from '../fixtures/hashes/makeRun.js';
import { runCli } from '../helpers/cli.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});
async function scratch(name: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `rr-cpio-${name}-`));
  temps.push(d);
  return d;
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

interface Entry {
  name: string;
  data?: string;
  mode?: number;
  mtime?: number;
  dir?: boolean;
}

/** A newc ("070701") archive with its TRAILER!!!, 4-byte aligned as the format requires. */
function newc(entries: readonly Entry[]): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    size += b.length;
  };
  const align = () => {
    if (size % 4) push(Buffer.alloc(4 - (size % 4)));
  };
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  [...entries, { name: 'TRAILER!!!', data: '' }].forEach((e, ino) => {
    const data = Buffer.from(e.data ?? '');
    const mode =
      (e.dir ? 0o040000 : e.name === 'TRAILER!!!' ? 0 : 0o100000) | (e.mode ?? (e.dir ? 0o755 : 0o644));
    const fields = [ino + 1, mode, 0, 0, 1, e.mtime ?? 0, data.length, 0, 0, 0, 0, e.name.length + 1, 0];
    push(Buffer.from(`070701${fields.map(hex).join('')}`, 'latin1'));
    push(Buffer.from(`${e.name}\0`));
    align();
    push(data);
    align();
  });
  return Buffer.concat(parts);
}

const initrd = (init: string, extra: Entry[] = []): Entry[] => [
  { name: '.', dir: true },
  { name: 'bin', dir: true },
  { name: 'bin/busybox', data: 'busybox binary' },
  { name: 'init', data: init, mode: 0o755 },
  { name: 'etc/config', data: 'CONFIG_X=y\n' },
  ...extra,
];

/** A Heads hashes.txt: header, the cpio and ROM lines, and the cpio's member block. */
function headsHashes(commit: string, cpio: Buffer, members: Record<string, string>, rom: string): string {
  return [
    `2025-10-01 12:34:56+00:00 ${commit} clean`,
    `${sha(cpio)}  /root/project/build/x86/x230/initrd.cpio`,
    '-----',
    ...Object.entries(members).map(([name, data]) => `${sha(data)}  ./${name}`),
    '-----',
    `${sha(rom)}  build/x86/x230/heads-x230.rom`,
    '',
  ].join('\n');
}

describe('cpio archives, member by member', () => {
  it('reads newc archives, plain, gzip-compressed and concatenated, with each member hashed', () => {
    const plain = newc(initrd('#!/bin/sh\necho one\n'));
    const members = readCpio(plain);
    expect(members.map((m) => [m.name, m.kind])).toEqual([
      ['.', 'dir'],
      ['bin', 'dir'],
      ['bin/busybox', 'file'],
      ['init', 'file'],
      ['etc/config', 'file'],
    ]);
    expect(members.find((m) => m.name === 'init')).toMatchObject({
      mode: 0o755,
      sha256: sha('#!/bin/sh\necho one\n'),
    });
    expect(readCpio(gzipSync(plain))).toEqual(members);
    // Early microcode + compressed initrd: an uncompressed archive followed by a gzip one.
    const both = readCpio(
      Buffer.concat([newc([{ name: 'kernel/x86/microcode/a.bin', data: 'ucode' }]), gzipSync(plain)]),
    );
    expect(both.map((m) => m.name)).toEqual(['kernel/x86/microcode/a.bin', ...members.map((m) => m.name)]);
    expect(() => readCpio(Buffer.from('not a cpio archive at all, just text........'))).toThrow(
      /not a newc cpio header/,
    );
    expect(() => readCpio(plain.subarray(0, 200))).toThrow(/truncated/);
  });

  it('diffCpio names the differing member, members only on one side, and metadata-only changes', () => {
    const a = readCpio(newc(initrd('#!/bin/sh\necho one\n')));
    const b = readCpio(newc(initrd('#!/bin/sh\necho two\n', [{ name: 'etc/extra', data: 'x' }])));
    expect(diffCpio(a, b).map((d) => [d.name, d.change])).toEqual([
      ['./init', 'content'],
      ['./etc/extra', 'only in B'],
    ]);
    const stamped = readCpio(newc(initrd('#!/bin/sh\necho one\n').map((e) => ({ ...e, mtime: 1700000000 }))));
    const meta = diffCpio(a, stamped);
    expect(meta.every((d) => d.change === 'metadata')).toBe(true);
    expect(meta.find((d) => d.name === './init')?.detail).toBe('mtime 0/1700000000');
  });

  it('two Heads hashes.txt with one differing cpio member: compare names the member (text and --json)', async () => {
    const root = await scratch('heads');
    const filesA = {
      'bin/busybox': 'busybox binary',
      init: '#!/bin/sh\necho one\n',
      'etc/config': 'CONFIG_X=y\n',
    };
    const filesB = { ...filesA, init: '#!/bin/sh\necho two\n' };
    const cpioA = newc(initrd(filesA.init));
    const cpioB = newc(initrd(filesB.init));
    await writeFile(join(root, 'ci.hashes.txt'), headsHashes('3f2a9c1', cpioA, filesA, 'rom-a'));
    await writeFile(join(root, 'local.hashes.txt'), headsHashes('3f2a9c1', cpioB, filesB, 'rom-b'));

    const outcome = await compareInputs([join(root, 'ci.hashes.txt'), join(root, 'local.hashes.txt')], {});
    const row = allArtifacts(outcome.comparison).find((a) => a.key === 'initrd.cpio');
    expect(row?.verdict).toBe('mismatch');
    expect(row?.members?.map((m) => m.name)).toEqual(['./init']);
    expect(Object.values(row?.members?.[0]?.hashes ?? {})).toEqual([sha(filesA.init), sha(filesB.init)]);
    // The ROM differs too, but it has no member list.
    expect(allArtifacts(outcome.comparison).find((a) => a.key === 'heads-x230.rom')?.members).toBeUndefined();
    expect(renderProblems(outcome.comparison).join('\n')).toMatch(
      /^ {2}member \.\/init differs: \S*ci\.hashes\.txt has [0-9a-f]{64}, \S*local\.hashes\.txt has [0-9a-f]{64}$/m,
    );
    expect(comparisonJson(outcome).artifacts.find((a) => a.key === 'initrd.cpio')?.members).toEqual([
      { name: './init', verdict: 'mismatch', hashes: row?.members?.[0]?.hashes },
    ]);

    const text = await runCli(['compare', 'ci.hashes.txt', 'local.hashes.txt'], { cwd: root });
    expect(text.exitCode, text.stderr).toBe(1);
    expect(text.stdout).toMatch(
      /^mismatch initrd\.cpio:.*\n(?: {2}disagrees: .*\n)+ {2}member \.\/init differs: /m,
    );
    const json = await runCli(['compare', '--json', 'ci.hashes.txt', 'local.hashes.txt'], { cwd: root });
    const parsed = JSON.parse(json.stdout) as {
      artifacts: Array<{ key: string; members?: Array<{ name: string }> }>;
    };
    expect(parsed.artifacts.find((a) => a.key === 'initrd.cpio')?.members?.map((m) => m.name)).toEqual([
      './init',
    ]);
    // A member block equal on both sides names nothing.
    await writeFile(join(root, 'same.hashes.txt'), headsHashes('3f2a9c1', cpioA, filesA, 'rom-b'));
    const same = await compareInputs([join(root, 'ci.hashes.txt'), join(root, 'same.hashes.txt')], {});
    expect(allArtifacts(same.comparison).find((a) => a.key === 'initrd.cpio')?.verdict).toBe('reproducible');
  }, 60_000);

  it('two initrd cpio files (plain and gzip) differing in one member: the explanation names it (text and --json)', async () => {
    const root = await scratch('initrd');
    const run = join(root, 'run');
    const a = newc(initrd('#!/bin/sh\necho one\n'));
    const b = newc(initrd('#!/bin/sh\necho two\n'));
    await makeRun(run, { index: 1, files: { 'initrd.cpio': a, 'initrd.cpio.gz': gzipSync(a) } });
    await makeRun(run, { index: 2, files: { 'initrd.cpio': b, 'initrd.cpio.gz': gzipSync(b) } });

    const outcome = await compareInputs([run], { diffoscope: null, report: join(root, 'diff') });
    expect(outcome.reports.map((r) => r.artifact).sort()).toEqual(['initrd.cpio', 'initrd.cpio.gz']);
    for (const r of outcome.reports) {
      expect(r.members?.map((m) => [m.name, m.change])).toEqual([['./init', 'content']]);
      expect(r.summary.slice(2, 4)).toEqual([
        'cpio members that differ (1):',
        expect.stringMatching(/^ {2}content "\.\/init": sha256 [0-9a-f]{12}…\/[0-9a-f]{12}…, 19\/19 bytes$/),
      ]);
      expect(await readFile(r.text, 'utf8')).toMatch(/content "\.\/init"/);
    }

    const text = await runCli(['compare', 'run', '--report', 'diff'], { cwd: root });
    expect(text.exitCode, text.stderr).toBe(1);
    expect(text.stdout).toMatch(
      /^diff initrd\.cpio: .*\n {2}cpio members that differ \(1\):\n {4}content "\.\/init"/m,
    );
    const json = await runCli(['compare', 'run', '--json', '--report', 'diff'], { cwd: root });
    const parsed = JSON.parse(json.stdout) as {
      reports: Array<{ artifact: string; members?: Array<{ name: string }> }>;
    };
    expect(parsed.reports.find((r) => r.artifact === 'initrd.cpio.gz')?.members?.map((m) => m.name)).toEqual([
      './init',
    ]);

    // ROMs that are not archives get no member list.
    const roms = join(root, 'roms');
    await makeRun(roms, { index: 1, files: { 'bios.bin': 'rom one' } });
    await makeRun(roms, { index: 2, files: { 'bios.bin': 'rom two' } });
    const plain = await compareInputs([roms], { diffoscope: null });
    expect(plain.reports[0]?.members).toBeUndefined();
  }, 120_000);
});
