/**
 * Release folders from elsewhere (issue 31, acceptance; the sibling of foreign-property.test.ts,
 * which covers compare, merge and report): a signed release, then one or two hostile or
 * careless changes at random places (a file deleted, replaced by a folder, a FIFO, a link out
 * of the folder to identical bytes or to /dev/zero; a file where a folder was; an extra ROM;
 * an edited hashes list or manifest), sometimes signed again with the release's own key (the
 * publisher's mistake: the signatures then hold, the folder still disagrees with itself) or
 * with another key. `verify --no-rebuild` must never say VERIFIED unless every change was a
 * true no-op (same bytes rewritten, a mode or time changed, an empty folder added), must
 * answer in bounded time, and must refuse in the documented way: NOT VERIFIED (exit 1) with
 * the failed checks on `reprorom:` lines, or one `reprorom:` line and a hint (exit 2); never
 * a stack trace, never a write into the folder. Seeded, so a failure names the case that
 * reproduces it. No engine: the release comes from the real writer and signer.
 */
import { execFileSync } from 'node:child_process';
import {
  chmod,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  truncate,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_INPUT_BYTES } from '../../src/hashes/limits.js';
import {
  type Envelope,
  ed25519PublicKeys,
  envelopePath,
  formatEnvelope,
  readEd25519PrivateKey,
  signEnvelope,
} from '../../src/release/dsse.js';
import { envelopesOf, signaturesOf } from '../../src/release/sign.js';
import { writeRelease } from '../../src/release/write.js';
import { writeFilesAtomic } from '../../src/util/atomic.js';
import { sha256Bytes } from '../../src/util/sha256.js';
import { runCli } from '../helpers/cli.js';
import { writeFakeRun } from '../helpers/runFolder.js';
import { expectNoStack, seeded } from './support.js';

const CASES = 24;
const BOUNDED = { timeoutMs: 30_000 };
const BOARD = 'alpha';
const ROM = `${BOARD}/out/bios.rom`;
const ROM_BYTES = 'the released firmware\n';
const SIGNED = ['manifest.json', 'hashes.txt', `${BOARD}/hashes.txt`, `${BOARD}/provenance.json`];
const ENVELOPE = envelopePath(`${BOARD}/provenance.json`);
const FILES = [...SIGNED, ...SIGNED.map((f) => `${f}.sig`), ENVELOPE, ROM];
const FOLDERS = [BOARD, `${BOARD}/out`];

let root = '';
/** The signed release every case starts from, its key pair, and a second key of someone else. */
let pristine = '';
let key = '';
let foreignKey = '';

/** A release of one board (two fake runs that agree), signed with `key` as `reprorom sign` does. */
async function signedRelease(out: string): Promise<void> {
  const runs: string[] = [];
  for (const index of [1, 2]) {
    const dir = join(root, 'runs', 'RUN', BOARD, String(index));
    await mkdir(join(dir, 'artifacts', 'out'), { recursive: true });
    await writeFakeRun(dir, {
      board: BOARD,
      runId: 'RUN',
      index,
      artifact: 'out/bios.rom',
      bytes: ROM_BYTES,
      durationMs: 1,
      narHash: `sha256-${'Q'.repeat(43)}=`,
      imageId: `sha256:${'c'.repeat(64)}`,
      sourceHash: 'a'.repeat(64),
    });
    runs.push(dir);
  }
  await writeRelease(out, [{ board: BOARD, runDirs: runs }]);
  await resign(out, key);
}

/** Signs the release's signed files (and the provenance's DSSE envelope) again, all or nothing. */
async function resign(dir: string, with_: string): Promise<void> {
  const sigs = await signaturesOf(
    SIGNED.map((f) => join(dir, f)),
    with_,
    'ssh',
  );
  const envs = await envelopesOf([join(dir, BOARD, 'provenance.json')], with_);
  await writeFilesAtomic([...sigs, ...envs.pending]);
}

/** Every path below `dir` with what it is and, for files, its bytes' hash: a write into the folder shows. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(dir, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const s = await lstat(join(dir, path));
      if (s.isDirectory()) {
        out.push(`${path}/`);
        await walk(path);
      } else if (s.isFile() && s.size < 1024 * 1024)
        out.push(`${path} ${sha256Bytes(await readFile(join(dir, path)))}`);
      else out.push(`${path} ${s.mode.toString(8)} ${s.size}`);
    }
  };
  await walk('');
  return out.sort();
}

async function isFolder(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isDirectory() === true;
}
async function isFile(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isFile() === true;
}

/** Rewrites the text of a regular file; false when there is none, or the edit changes nothing. */
async function editText(path: string, edit: (text: string) => string): Promise<boolean> {
  if (!(await isFile(path))) return false;
  const before = await readFile(path, 'utf8');
  const after = edit(before);
  if (after === before) return false;
  await writeFile(path, after);
  return true;
}

/** Edits the release manifest as JSON (what a careless hand or a script might do). */
async function editManifest(dir: string, edit: (m: ManifestShape) => void): Promise<boolean> {
  return editText(join(dir, 'manifest.json'), (text) => {
    let m: ManifestShape;
    try {
      m = JSON.parse(text) as ManifestShape;
    } catch {
      return text; // no longer JSON (an earlier change): nowhere to land
    }
    edit(m);
    return `${JSON.stringify(m, null, 2)}\n`;
  });
}
interface ManifestShape {
  boards: Array<{
    board: string;
    provenance: { path: string; sha256: string };
    artifacts: Array<{ path: string; sha256: string; size: number }>;
    [k: string]: unknown;
  }>;
  [k: string]: unknown;
}

/** A change: `where` it lands (a path below the release), whether it is a true no-op, what it does. */
interface Change {
  what: string;
  noop?: boolean;
  /** The places it may land; one is drawn. */
  places: readonly string[];
  /** Applies it; false when it had nowhere to land (the case then notes it was skipped). */
  apply: (dir: string, place: string, outside: string) => Promise<boolean>;
}

const FILES_AND_FOLDERS = [...FILES, ...FOLDERS];
const EVIL = 'malicious firmware\n';

const CHANGES: readonly Change[] = [
  {
    what: 'deleted',
    places: FILES_AND_FOLDERS,
    apply: async (d, p) => {
      await rm(join(d, p), { recursive: true, force: true });
      return true;
    },
  },
  {
    what: 'replaced by an empty folder',
    places: FILES_AND_FOLDERS,
    apply: async (d, p) => {
      await rm(join(d, p), { recursive: true, force: true });
      await mkdir(join(d, p));
      return true;
    },
  },
  {
    what: 'replaced by a FIFO',
    places: FILES_AND_FOLDERS,
    apply: async (d, p) => {
      await rm(join(d, p), { recursive: true, force: true });
      execFileSync('mkfifo', [join(d, p)]);
      return true;
    },
  },
  {
    what: 'replaced by a link to an identical copy outside the folder',
    places: FILES_AND_FOLDERS,
    apply: async (d, p, outside) => {
      const copy = join(outside, `copy-${p.replace(/\//g, '_')}-${Math.random().toString(36).slice(2)}`);
      await cp(join(d, p), copy, { recursive: true, verbatimSymlinks: true });
      await rm(join(d, p), { recursive: true, force: true });
      await symlink(copy, join(d, p));
      return true;
    },
  },
  {
    what: 'replaced by a link to /dev/zero',
    places: FILES,
    apply: async (d, p) => {
      await rm(join(d, p), { recursive: true, force: true });
      await symlink('/dev/zero', join(d, p));
      return true;
    },
  },
  {
    what: 'replaced by a relative link to a file of the folder',
    places: FILES,
    apply: async (d, p) => {
      await rm(join(d, p), { recursive: true, force: true });
      await symlink(relative(dirname(join(d, p)), join(d, 'hashes.txt')), join(d, p));
      return true;
    },
  },
  {
    what: 'a file where a folder was',
    places: FOLDERS,
    apply: async (d, p) => {
      await rm(join(d, p), { recursive: true, force: true });
      await writeFile(join(d, p), EVIL);
      return true;
    },
  },
  {
    what: 'one byte flipped',
    places: FILES,
    apply: async (d, p) => {
      if (!(await isFile(join(d, p)))) return false;
      const bytes = await readFile(join(d, p));
      const at = Math.floor(bytes.length / 2);
      bytes[at] = (bytes[at] ?? 0) ^ 0x01;
      await writeFile(join(d, p), bytes);
      return true;
    },
  },
  {
    what: 'truncated to half',
    places: FILES,
    apply: async (d, p) => {
      if (!(await isFile(join(d, p)))) return false;
      const bytes = await readFile(join(d, p));
      await writeFile(join(d, p), bytes.subarray(0, Math.floor(bytes.length / 2)));
      return true;
    },
  },
  {
    what: 'an oversize sparse file',
    places: [...SIGNED, ENVELOPE],
    apply: async (d, p) => {
      await rm(join(d, p), { recursive: true, force: true });
      await writeFile(join(d, p), '');
      await truncate(join(d, p), MAX_INPUT_BYTES + 1);
      return true;
    },
  },
  {
    what: 'an extra ROM',
    places: ['', BOARD, `${BOARD}/out`, `${BOARD}/extra`],
    apply: async (d, p) => {
      if (!(await isFolder(dirname(join(d, p))))) return false;
      await mkdir(join(d, p), { recursive: true });
      await writeFile(join(d, p, 'evil.rom'), EVIL);
      return true;
    },
  },
  {
    what: 'an extra hidden file, and a signature of the ROM no manifest asks for',
    places: ['', `${BOARD}/out`],
    apply: async (d, p) => {
      if (!(await isFolder(join(d, p)))) return false;
      await writeFile(join(d, p, '.evil'), EVIL);
      await writeFile(join(d, `${ROM}.sig`), EVIL);
      return true;
    },
  },
  {
    what: 'an extra link out of the folder',
    places: ['', BOARD, `${BOARD}/out`],
    apply: async (d, p) => {
      if (!(await isFolder(join(d, p)))) return false;
      await symlink('/etc/passwd', join(d, p, 'evil.rom'));
      return true;
    },
  },
  {
    what: 'a hash digit changed',
    places: ['hashes.txt', `${BOARD}/hashes.txt`],
    apply: (d, p) => editText(join(d, p), (t) => `${t[0] === '0' ? '1' : '0'}${t.slice(1)}`),
  },
  {
    what: 'a line for an extra ROM added (and the ROM)',
    places: ['hashes.txt', `${BOARD}/hashes.txt`],
    apply: async (d, p) => {
      const prefix = p === 'hashes.txt' ? `${BOARD}/out/` : 'out/';
      if (!(await isFolder(join(d, BOARD, 'out')))) return false;
      await writeFile(join(d, BOARD, 'out', 'evil.rom'), EVIL);
      return editText(join(d, p), (t) => `${t}${sha256Bytes(EVIL)}  ${prefix}evil.rom\n`);
    },
  },
  {
    what: 'CRLF line ends',
    places: ['hashes.txt', `${BOARD}/hashes.txt`],
    apply: (d, p) => editText(join(d, p), (t) => t.replace(/\n/g, '\r\n')),
  },
  {
    what: 'upper-case hashes',
    places: ['hashes.txt', `${BOARD}/hashes.txt`],
    apply: (d, p) => editText(join(d, p), (t) => t.replace(/^[0-9a-f]{64}/gm, (h) => h.toUpperCase())),
  },
  {
    what: 'emptied',
    places: ['hashes.txt', `${BOARD}/hashes.txt`, 'manifest.json'],
    apply: (d, p) => editText(join(d, p), () => ''),
  },
  {
    what: "the ROM's sha256 in the manifest changed",
    places: ['manifest.json'],
    apply: (d) =>
      editManifest(d, (m) => {
        for (const a of m.boards[0]!.artifacts) a.sha256 = sha256Bytes(EVIL);
      }),
  },
  {
    what: "the ROM's size in the manifest changed",
    places: ['manifest.json'],
    apply: (d) =>
      editManifest(d, (m) => {
        for (const a of m.boards[0]!.artifacts) a.size += 1;
      }),
  },
  {
    what: "the provenance's sha256 in the manifest changed",
    places: ['manifest.json'],
    apply: (d) =>
      editManifest(d, (m) => {
        m.boards[0]!.provenance.sha256 = sha256Bytes(EVIL);
      }),
  },
  {
    what: 'the board renamed in the manifest',
    places: ['manifest.json'],
    apply: (d) =>
      editManifest(d, (m) => {
        m.boards[0]!.board = 'beta';
      }),
  },
  {
    what: 'an artifact path leaving the folder',
    places: ['manifest.json'],
    apply: (d) =>
      editManifest(d, (m) => {
        m.boards[0]!.artifacts[0]!.path = `${BOARD}/../../outside.rom`;
      }),
  },
  {
    what: 'an unknown field added',
    places: ['manifest.json'],
    apply: (d) =>
      editManifest(d, (m) => {
        m['trusted'] = true;
      }),
  },
  {
    what: 'an extra ROM listed by the manifest only',
    places: ['manifest.json'],
    apply: async (d) => {
      if (!(await isFolder(join(d, BOARD, 'out')))) return false;
      await writeFile(join(d, BOARD, 'out', 'evil.rom'), EVIL);
      return editManifest(d, (m) => {
        m.boards[0]!.artifacts.push({
          path: `${BOARD}/out/evil.rom`,
          sha256: sha256Bytes(EVIL),
          size: EVIL.length,
        });
      });
    },
  },
  {
    what: 'the ROM replaced and every hash list and the manifest updated (not the provenance)',
    places: [ROM],
    apply: async (d) => {
      if (!(await isFile(join(d, ROM)))) return false;
      const old = sha256Bytes(await readFile(join(d, ROM)));
      await writeFile(join(d, ROM), EVIL);
      const swap = (t: string) => t.split(old).join(sha256Bytes(EVIL));
      await editText(join(d, 'hashes.txt'), swap);
      await editText(join(d, BOARD, 'hashes.txt'), swap);
      await editManifest(d, (m) => {
        for (const a of m.boards[0]!.artifacts)
          if (a.path === ROM) Object.assign(a, { sha256: sha256Bytes(EVIL), size: EVIL.length });
      }).catch(() => false);
      return true;
    },
  },
  {
    what: 'rewritten with the same bytes',
    noop: true,
    places: FILES,
    apply: async (d, p) => {
      if (!(await isFile(join(d, p)))) return false;
      const bytes = await readFile(join(d, p));
      await rm(join(d, p));
      await writeFile(join(d, p), bytes);
      return true;
    },
  },
  {
    what: 'mode 0600 and an old modification time',
    noop: true,
    places: FILES,
    apply: async (d, p) => {
      if (!(await isFile(join(d, p)))) return false;
      await chmod(join(d, p), 0o600);
      await utimes(join(d, p), 1, 1);
      return true;
    },
  },
  {
    what: 'an empty folder added',
    noop: true,
    places: ['', BOARD, `${BOARD}/out`],
    apply: async (d, p) => {
      if (!(await isFolder(join(d, p)))) return false;
      await mkdir(join(d, p, 'empty'));
      return true;
    },
  },
];

/** How the case ends: nothing more, signed again by the release's key, or by someone else's. */
const SIGNINGS = ['as is', 'as is', 'signed again with the release key', 'signed again with another key'];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rr-release-property-'));
  key = join(root, 'signer');
  foreignKey = join(root, 'someone-else');
  for (const k of [key, foreignKey])
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'signer', '-f', k]);
  pristine = join(root, 'release');
  await signedRelease(pristine);
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** One case: a copy of the signed release, one or two changes drawn from `seed`, then verify. */
async function oneCase(seed: number): Promise<void> {
  const pick = seeded(seed);
  const dir = join(root, `case-${seed}`, 'release');
  const outside = join(root, `case-${seed}`, 'outside');
  await mkdir(outside, { recursive: true });
  await cp(pristine, dir, { recursive: true });
  const done: string[] = [];
  let noop = true;
  /**
   * The DSSE envelope deleted: verify passes and notes it is absent, by design (a release signed
   * before envelopes, or with a key that makes none, has none; the detached signature of the
   * provenance is checked either way, so VERIFIED still says only what was checked).
   */
  let envelopeGone = false;
  for (let n = 1 + pick(2); n > 0; n--) {
    const change = CHANGES[pick(CHANGES.length)]!;
    const place = change.places[pick(change.places.length)]!;
    // A change below a folder an earlier one replaced has nowhere to land.
    const landed = (await isFolder(dirname(join(dir, place)))) && (await change.apply(dir, place, outside));
    done.push(`${place || '.'}: ${change.what}${landed ? '' : ' (skipped: nowhere to land)'}`);
    if (landed && change.what === 'deleted' && place === ENVELOPE) envelopeGone = true;
    else if (landed && !change.noop) noop = false;
  }
  const signing = SIGNINGS[pick(SIGNINGS.length)]!;
  if (signing !== 'as is') {
    // The signer refuses what is not a regular file; the case then goes on unsigned again.
    const signed = await resign(dir, signing.endsWith('release key') ? key : foreignKey).then(
      () => true,
      () => false,
    );
    done.push(signed ? signing : `${signing} (refused by the signer)`);
    // Signed again by someone else, even an untouched release is not the publisher's.
    if (signed && signing.endsWith('another key')) noop = false;
    // Signing again writes the envelope again.
    if (signed) envelopeGone = false;
  }
  const why = `seed ${seed}: ${done.join('; ')}`;
  const before = await snapshot(dir);
  const started = Date.now();
  const r = await runCli(['verify', dir, '--no-rebuild', '--key', `${key}.pub`], BOUNDED);
  const output = `${why}\n--- exit ${r.exitCode}\n${r.stdout}${r.stderr}`;
  if (process.env['RR_PROPERTY_LOG'])
    console.log(`${why} => exit ${r.exitCode} in ${Date.now() - started} ms: ${r.stderr.split('\n')[0]}`);
  expect(Date.now() - started, output).toBeLessThan(20_000);
  expectNoStack(r.stderr);
  if (noop) {
    expect(r.exitCode, output).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1), output).toBe(
      'VERIFIED: good signature and every file matches the signed hashes (nothing was rebuilt)',
    );
    if (envelopeGone) expect(r.stdout, output).toContain(`note: ${ENVELOPE} is absent`);
  } else {
    expect([1, 2], output).toContain(r.exitCode);
    expect(r.stdout, output).not.toMatch(/^VERIFIED/m);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('reprorom:'));
    if (r.exitCode === 1) {
      // The verdict, then each failed check on a line of its own.
      expect(r.stdout.trim().split('\n').at(-1), output).toMatch(/^NOT VERIFIED: /);
      expect(lines.length, output).toBeGreaterThan(0);
    } else {
      expect(lines, output).toHaveLength(1);
      expect(r.stderr, output).toMatch(/^ {2}→ \S/m);
    }
  }
  // verify reads; it never writes into the folder (nor through a link out of it).
  expect(await snapshot(dir), why).toEqual(before);
}

/** A copy of the signed release to change by hand. */
async function copyOf(name: string): Promise<string> {
  const dir = join(root, name, 'release');
  await cp(pristine, dir, { recursive: true });
  return dir;
}

const verifyNoRebuild = (dir: string) =>
  runCli(['verify', dir, '--no-rebuild', '--key', `${key}.pub`], BOUNDED);

describe('release folders from elsewhere: verify --no-rebuild', () => {
  it(`${CASES} seeded cases of one or two changes to a signed release: VERIFIED only when every change was a no-op, otherwise refused as documented, never a crash or a write, each in bounded time`, async () => {
    for (let seed = 3000; seed < 3000 + CASES; seed++) await oneCase(seed);
  });

  it('a manifest signed again by the release key that states another ROM size is NOT VERIFIED, naming both sizes (exit 1; was VERIFIED)', async () => {
    const dir = await copyOf('size');
    await editManifest(dir, (m) => {
      for (const a of m.boards[0]!.artifacts) a.size += 1;
    });
    await resign(dir, key);
    const r = await verifyNoRebuild(dir);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain(
      `NOT VERIFIED: integrity check failed: ${ROM} is ${ROM_BYTES.length} bytes, but the signed manifest.json says ${ROM_BYTES.length + 1}`,
    );
    expectNoStack(r.stderr);
  });

  it.each([
    ['an empty folder', (p: string) => mkdir(p), 'is a folder'],
    [
      'an oversize sparse file',
      async (p: string) => {
        await writeFile(p, '');
        await truncate(p, MAX_INPUT_BYTES + 1);
      },
      `is ${MAX_INPUT_BYTES + 1} bytes`,
    ],
  ] as const)(
    'the DSSE envelope replaced by %s is NOT VERIFIED, naming it (exit 1; was VERIFIED with a note that it is absent)',
    async (_what, replace, kind) => {
      const dir = await copyOf(`envelope-${_what.replace(/ /g, '-')}`);
      await rm(join(dir, ENVELOPE));
      await replace(join(dir, ENVELOPE));
      const r = await verifyNoRebuild(dir);
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toContain(
        `NOT VERIFIED: signature check failed: bad DSSE envelope ${ENVELOPE}: it ${kind}`,
      );
      expect(r.stdout).not.toMatch(/is absent/);
      expectNoStack(r.stderr);
    },
  );

  it.each([
    [
      'its ROM twice',
      'rom-twice',
      (m: ManifestShape) => m.boards[0]!.artifacts.push({ ...m.boards[0]!.artifacts[0]! }),
      `boards[0].artifacts[1].path: path "${ROM}" is named twice (first at boards[0].artifacts[0].path)`,
    ],
    [
      'a ROM at the provenance path',
      'rom-at-provenance',
      (m: ManifestShape) => {
        m.boards[0]!.artifacts[0]!.path = `${BOARD}/provenance.json`;
      },
      `boards[0].artifacts[0].path: path "${BOARD}/provenance.json" is named twice (first at boards[0].provenance.path)`,
    ],
  ] as const)(
    'a manifest signed again by the release key that names %s is refused at the manifest, naming both places (exit 2; was not refused directly)',
    async (_what, name, edit, where) => {
      const dir = await copyOf(name);
      await editManifest(dir, edit);
      await resign(dir, key);
      const r = await verifyNoRebuild(dir);
      expect(r.exitCode, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toContain(where);
      expect(r.stdout).not.toMatch(/VERIFIED/);
      expectNoStack(r.stderr);
    },
  );

  it.each(['provenance.json', 'hashes.txt', 'hashes.txt.sig'])(
    'release refuses a board whose artifact is named %s (the file a release or sign writes in the board folder), before writing anything',
    async (artifact) => {
      const runs: string[] = [];
      for (const index of [1, 2]) {
        const dir = join(root, 'clash', artifact, String(index));
        await mkdir(join(dir, 'artifacts'), { recursive: true });
        await writeFakeRun(dir, {
          board: BOARD,
          runId: 'RUN',
          index,
          artifact,
          bytes: ROM_BYTES,
          durationMs: 1,
          narHash: `sha256-${'Q'.repeat(43)}=`,
          imageId: `sha256:${'c'.repeat(64)}`,
          sourceHash: 'a'.repeat(64),
        });
        runs.push(dir);
      }
      const out = join(root, 'clash', artifact, 'release');
      await expect(writeRelease(out, [{ board: BOARD, runDirs: runs }])).rejects.toThrow(
        `board ${BOARD}'s artifact ${artifact} clashes with the file a release writes as ${BOARD}/${artifact}`,
      );
      expect(await lstat(out).catch(() => undefined)).toBeUndefined();
    },
  );

  it('a junk OpenPGP signature (hashes.txt.asc) beside the OpenSSH ones: VERIFIED by the OpenSSH key, with a note naming the .asc as not checked', async () => {
    const dir = await copyOf('junk-asc');
    await writeFile(join(dir, 'hashes.txt.asc'), 'not a signature at all\n');
    const r = await verifyNoRebuild(dir);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /note: hashes\.txt\.asc was not checked: this verify used OpenSSH public key .*; pass the OpenPGP key with --key to check it too/,
    );
  });

  it('the DSSE envelope deleted: VERIFIED, with a note that it is absent and the detached signature of the provenance was checked', async () => {
    const dir = await copyOf('envelope-deleted');
    await rm(join(dir, ENVELOPE));
    const r = await verifyNoRebuild(dir);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `note: ${ENVELOPE} is absent: the provenance has no DSSE envelope (its detached signature was checked)`,
    );
  });

  it('a DSSE envelope with a foreign signature before the good one: verify prints "signature 2 of 2" on the envelope\'s line', async () => {
    const dir = await copyOf('envelope-foreign-first');
    const envelope = JSON.parse(await readFile(join(dir, ENVELOPE), 'utf8')) as Envelope;
    const stranger = readEd25519PrivateKey(await readFile(foreignKey, 'utf8'), foreignKey)!;
    const foreign = signEnvelope(Buffer.from(envelope.payload, 'base64'), stranger).signatures[0]!;
    await writeFile(
      join(dir, ENVELOPE),
      formatEnvelope({ ...envelope, signatures: [foreign, ...envelope.signatures] }),
    );
    const r = await verifyNoRebuild(dir);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const good = ed25519PublicKeys(await readFile(`${key}.pub`, 'utf8'))[0]!.keyid;
    expect(foreign.keyid).not.toBe(good);
    expect(r.stdout.split('\n')).toContain(
      `  ok   ${BOARD}/provenance.json: good DSSE envelope (in-toto statement) by ${good} (signature 2 of 2; the others were not checked or do not verify with the given key)`,
    );
  });
});
