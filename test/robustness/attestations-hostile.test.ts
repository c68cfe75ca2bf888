/**
 * Hostile rebuild attestations handed to `verify --attestations --trust --threshold
 * --no-rebuild` and hostile rebuilt folders handed to `attest`. A false "accepted" is the
 * worst outcome: each case must end as a statement that is not counted (with its reason
 * printed), a rebuilder named as disagreeing, or a refusal with exit 2; never a vote more.
 * No engine and no nix: the release folder is written here (manifest, hashes, provenance,
 * ROMs) and the statements are signed with real ssh-keygen ed25519 keys.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hashRebuiltFolder,
  type RebuildStatement,
  type ReleaseIdentity,
  readReleaseIdentity,
  rebuildStatement,
} from '../../src/attest/statement.js';
import { formatHashesTxt } from '../../src/hashes/hashesTxt.js';
import { canonicalJson } from '../../src/image/digest.js';
import {
  type Ed25519Signer,
  type Envelope,
  formatEnvelope,
  readEd25519PrivateKey,
  signEnvelope,
} from '../../src/release/dsse.js';
import { formatReleaseManifest, type ReleaseManifest } from '../../src/release/releaseManifest.js';
import { sha256Bytes } from '../../src/util/sha256.js';
import { runCli } from '../helpers/cli.js';
import { schemaErrors } from '../helpers/jsonContract.js';
import { writeFakeRun } from '../helpers/runFolder.js';
import { expectNoStack } from './support.js';

const BOARD = 'x230';
const ROM_A = `${BOARD}/out/a.rom`;
const ROM_B = `${BOARD}/out/b.rom`;
const BYTES: Record<string, Buffer> = { [ROM_A]: Buffer.from('rom a\n'), [ROM_B]: Buffer.from('rom b\n') };
const OTHER = sha256Bytes('other bytes\n');
const NAR_HASH = `sha256-${'A'.repeat(43)}=`;
/** Every case runs without an engine: a Docker or nix call would fail here, loudly. */
const QUICK = { timeoutMs: 30_000 };

// biome-ignore lint/suspicious/noExplicitAny: --json output read back in tests
type Json = any;

let tmp = '';
let release = '';
let trust = '';
let identity: ReleaseIdentity;
let bare: Record<string, string> = {};
const keys: Record<string, Ed25519Signer> = {};
const ids = ['alice', 'bob', 'carol'] as const;

/** A release folder as `reprorom release` lays it out, written by hand: integrity checks pass. */
async function writeRelease(dir: string): Promise<void> {
  const provenance = Buffer.from('{"provenance":"not read by --attestations"}\n');
  const manifest: ReleaseManifest = {
    schema: 'reprorom.release/v1',
    tool: { name: 'reprorom', version: '0.0.0-test' },
    boards: [
      {
        board: BOARD,
        image: { name: 'firmware', id: `sha256:${'a'.repeat(64)}` },
        pin: { name: 'pin', flake: 'path:/pin', narHash: NAR_HASH },
        extraPins: [],
        source: { type: 'git', hash: 'source-hash-of-commit-1', commit: '1'.repeat(40) },
        commands: ['make'],
        sourceDateEpoch: 1,
        reproducedRuns: 2,
        hashes: `${BOARD}/hashes.txt`,
        provenance: { path: `${BOARD}/provenance.json`, sha256: sha256Bytes(provenance) },
        artifacts: [ROM_A, ROM_B].map((path) => ({
          path,
          sha256: sha256Bytes(BYTES[path]!),
          size: BYTES[path]!.length,
        })),
      },
    ],
  };
  await mkdir(join(dir, BOARD, 'out'), { recursive: true });
  for (const [path, bytes] of Object.entries(BYTES)) await writeFile(join(dir, path), bytes);
  await writeFile(join(dir, `${BOARD}/provenance.json`), provenance);
  const artifacts = manifest.boards[0]!.artifacts;
  await writeFile(join(dir, 'hashes.txt'), formatHashesTxt(artifacts));
  await writeFile(
    join(dir, `${BOARD}/hashes.txt`),
    formatHashesTxt(artifacts.map((a) => ({ path: a.path.slice(BOARD.length + 1), sha256: a.sha256 }))),
  );
  await writeFile(join(dir, 'manifest.json'), formatReleaseManifest(manifest));
}

/** The statement `attest` would write for `who`, rebuilt with the release's bytes (or `roms`). */
async function statementOf(who: string, roms?: Map<string, string>): Promise<RebuildStatement> {
  const rebuilt =
    roms ?? new Map(Object.entries(BYTES).map(([path, bytes]) => [path, sha256Bytes(bytes)] as const));
  return rebuildStatement(identity, rebuilt, { id: who, keyid: keys[who]!.keyid }, [], new Date());
}

/** Signs any statement-shaped value (hostile ones too) with each of `signers`, in one envelope. */
function envelope(statement: unknown, ...signers: Ed25519Signer[]): Envelope {
  const payload = Buffer.from(canonicalJson(statement), 'utf8');
  const envs = signers.map((k) => signEnvelope(payload, k));
  return { ...envs[0]!, signatures: envs.flatMap((e) => e.signatures) };
}

/** A fresh folder holding `files` (name → envelope). */
async function folder(files: Record<string, Envelope>): Promise<string> {
  const dir = await mkdtemp(join(tmp, 'atts-'));
  for (const [name, env] of Object.entries(files)) await writeFile(join(dir, name), formatEnvelope(env));
  return dir;
}

const verify = (dir: string, threshold: string, ...more: string[]) =>
  runCli(
    [
      'verify',
      release,
      '--no-rebuild',
      '--attestations',
      dir,
      '--trust',
      trust,
      '--threshold',
      threshold,
      ...more,
    ],
    { env: bare, ...QUICK },
  );

async function verifyJson(dir: string, threshold: string, ...more: string[]): Promise<Json> {
  const r = await verify(dir, threshold, '--json', ...more);
  expectNoStack(r.stderr);
  expect([0, 1], r.stderr).toContain(r.exitCode);
  const j: Json = JSON.parse(r.stdout);
  expect(j.ok).toBe(r.exitCode === 0);
  return j;
}

const reasonOf = (j: Json, name: string): string | null | undefined =>
  j.attestations.attestations.find((a: Json) => a.file.endsWith(`/${name}`))?.reason;
const romOf = (j: Json, rom: string): Json => j.attestations.roms.find((r: Json) => r.rom === rom);

/** One `reprorom:` line with exit `code` (2: bad input) and a hint, no stack trace. */
function expectRefused(
  r: { exitCode: number; stdout: string; stderr: string },
  line: RegExp,
  code = 2,
): void {
  expect(r.exitCode, r.stdout + r.stderr).toBe(code);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('reprorom:'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(line);
  expect(r.stderr).toMatch(/→/);
  expect(r.stdout).not.toMatch(/ACCEPTED: every ROM/);
  expectNoStack(r.stderr);
}

describe('robustness: hostile rebuild attestations', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'rr-att-hostile-'));
    await mkdir(join(tmp, 'empty-path'));
    bare = { DOCKER_HOST: 'unix:///nonexistent', PATH: join(tmp, 'empty-path') };
    release = join(tmp, 'release');
    await writeRelease(release);
    identity = await readReleaseIdentity(release);
    let text = '';
    for (const id of [...ids, 'mallory']) {
      const f = join(tmp, id);
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', id, '-f', f]);
      keys[id] = readEd25519PrivateKey(await readFile(f, 'utf8'), f)!;
      if (id !== 'mallory') text += `${id} ${keys[id]!.openssh} ${id}@example\n`;
    }
    trust = join(tmp, 'rebuilders.trust');
    await writeFile(trust, text);
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('the crafted release is accepted when three honest rebuilders agree (the cases below start from it)', async () => {
    const dir = await folder(
      Object.fromEntries(
        await Promise.all(
          ids.map(async (id) => [`${id}.intoto.jsonl`, envelope(await statementOf(id), keys[id]!)]),
        ),
      ),
    );
    const r = await verify(dir, '3');
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`accepted ${ROM_A}: 3 of 3 trusted rebuilders agree (alice, bob, carol)`);
    expect(r.stdout).toMatch(/^ACCEPTED: every ROM/m);
  });

  it('two signatures by the same key in one envelope, and the same builder in two envelopes: one vote', async () => {
    const twice = envelope(await statementOf('alice'), keys['alice']!, keys['alice']!);
    expect(twice.signatures).toHaveLength(2);
    const dir = await folder({
      'alice.intoto.jsonl': twice,
      'alice-again.intoto.jsonl': envelope(await statementOf('alice'), keys['alice']!),
      'bob.intoto.jsonl': envelope(await statementOf('bob'), keys['bob']!),
    });
    const j = await verifyJson(dir, '3');
    expect(j.ok).toBe(false);
    for (const rom of [ROM_A, ROM_B])
      expect(romOf(j, rom)).toMatchObject({ accepted: false, agreeing: ['alice', 'bob'], disagreeing: [] });
    expect(reasonOf(j, 'alice-again.intoto.jsonl')).toBeNull();
    expect(reasonOf(j, 'alice.intoto.jsonl')).toMatch(/^duplicate: builder alice is already counted/);
    const r = await verify(dir, '3');
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(`NOT ACCEPTED ${ROM_A}: 2 of 3 trusted rebuilders agree (alice, bob)`);
  });

  it('two attestations of one builder that contradict each other: named as disagreeing, never agreeing, even with --allow-disagreement', async () => {
    const same = await statementOf('alice');
    const other = await statementOf(
      'alice',
      new Map([
        [ROM_A, OTHER],
        [ROM_B, sha256Bytes(BYTES[ROM_B]!)],
      ]),
    );
    const dir = await folder({
      'a-alice-same.intoto.jsonl': envelope(same, keys['alice']!),
      'b-alice-other.intoto.jsonl': envelope(other, keys['alice']!),
      'bob.intoto.jsonl': envelope(await statementOf('bob'), keys['bob']!),
    });
    const j = await verifyJson(dir, '1');
    expect(j.ok).toBe(false);
    expect(romOf(j, ROM_A)).toMatchObject({
      accepted: false,
      agreeing: ['bob'],
      disagreeing: [{ builderId: 'alice', sha256: OTHER }],
    });
    expect(reasonOf(j, 'b-alice-other.intoto.jsonl')).toMatch(
      /attests other bytes for .*a\.rom: counted as disagreeing/,
    );
    const relaxed = await verifyJson(dir, '2', '--allow-disagreement');
    expect(relaxed.ok).toBe(false);
    expect(romOf(relaxed, ROM_A).agreeing).toEqual(['bob']);
  });

  it('a ROM listed twice in the subjects (same digest, then different digests): not counted, named', async () => {
    const s = await statementOf('alice');
    const a = s.subject.find((x) => x.name === ROM_A)!;
    const b = await statementOf('bob');
    const dir = await folder({
      'same.intoto.jsonl': envelope({ ...s, subject: [...s.subject, a] }, keys['alice']!),
      'different.intoto.jsonl': envelope(
        { ...b, subject: [{ name: ROM_A, digest: { sha256: OTHER } }, ...b.subject] },
        keys['bob']!,
      ),
    });
    const j = await verifyJson(dir, '1');
    expect(j.ok).toBe(false);
    expect(reasonOf(j, 'same.intoto.jsonl')).toBe(`ROM ${ROM_A} is named twice in the subjects`);
    expect(reasonOf(j, 'different.intoto.jsonl')).toBe(`ROM ${ROM_A} is named twice in the subjects`);
    for (const rom of [ROM_A, ROM_B]) expect(romOf(j, rom)).toMatchObject({ agreeing: [], disagreeing: [] });
    const r = await verify(dir, '1');
    expect(r.stdout).toMatch(
      /not counted: .*same\.intoto\.jsonl: ROM x230\/out\/a\.rom is named twice in the subjects/,
    );
  });

  it('a predicate naming another release (manifest sha256, source of another commit, another provenance, other expected bytes): not counted, reason printed', async () => {
    const s = await statementOf('alice');
    const boards = s.predicate.release.boards;
    const dir = await folder({
      'manifest.intoto.jsonl': envelope(
        {
          ...s,
          predicate: { ...s.predicate, release: { ...s.predicate.release, manifestSha256: 'e'.repeat(64) } },
        },
        keys['alice']!,
      ),
      'source.intoto.jsonl': envelope(
        {
          ...s,
          predicate: {
            ...s.predicate,
            release: {
              ...s.predicate.release,
              boards: boards.map((b) => ({ ...b, sourceHash: 'source-hash-of-commit-2' })),
            },
          },
        },
        keys['alice']!,
      ),
      'provenance.intoto.jsonl': envelope(
        {
          ...s,
          predicate: {
            ...s.predicate,
            release: {
              ...s.predicate.release,
              boards: boards.map((b) => ({ ...b, provenanceSha256: 'f'.repeat(64) })),
            },
          },
        },
        keys['alice']!,
      ),
      'expected.intoto.jsonl': envelope(
        {
          ...s,
          predicate: {
            ...s.predicate,
            roms: s.predicate.roms.map((r) =>
              r.name === ROM_A ? { ...r, expected: OTHER, verdict: 'different' } : r,
            ),
          },
        },
        keys['alice']!,
      ),
    });
    const j = await verifyJson(dir, '1');
    expect(j.ok).toBe(false);
    expect(reasonOf(j, 'manifest.intoto.jsonl')).toMatch(/^attests another release \(manifest sha256 e{64}/);
    expect(reasonOf(j, 'source.intoto.jsonl')).toBe(
      `attests another release: board ${BOARD} has source hash source-hash-of-commit-2, this release's is source-hash-of-commit-1`,
    );
    expect(reasonOf(j, 'provenance.intoto.jsonl')).toMatch(
      /^attests another release: board x230 has provenance sha256 f{64}/,
    );
    expect(reasonOf(j, 'expected.intoto.jsonl')).toMatch(
      /^attests another release: the predicate expects ROM x230\/out\/a\.rom to be/,
    );
    for (const rom of [ROM_A, ROM_B]) expect(romOf(j, rom).agreeing).toEqual([]);
    const r = await verify(dir, '1');
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(
      /not counted: .*source\.intoto\.jsonl: attests another release: board x230 has source hash/,
    );
  });

  it('a subject for a ROM the release lacks, a digest that is not a sha256, another key named in the predicate, a verdict contradicting the subjects: not counted', async () => {
    const s = await statementOf('alice');
    const dir = await folder({
      'extra.intoto.jsonl': envelope(
        { ...s, subject: [...s.subject, { name: `${BOARD}/out/evil.rom`, digest: { sha256: OTHER } }] },
        keys['alice']!,
      ),
      'upper.intoto.jsonl': envelope(
        {
          ...s,
          subject: s.subject.map((x) => ({ ...x, digest: { sha256: x.digest.sha256.toUpperCase() } })),
        },
        keys['alice']!,
      ),
      'keyid.intoto.jsonl': envelope(
        { ...s, predicate: { ...s.predicate, builder: { id: 'alice', keyid: keys['bob']!.keyid } } },
        keys['alice']!,
      ),
      'verdict.intoto.jsonl': envelope(
        {
          ...s,
          predicate: { ...s.predicate, roms: s.predicate.roms.map((r) => ({ ...r, verdict: 'failed' })) },
        },
        keys['alice']!,
      ),
    });
    const j = await verifyJson(dir, '1');
    expect(j.ok).toBe(false);
    expect(reasonOf(j, 'extra.intoto.jsonl')).toBe(
      `names ROM ${BOARD}/out/evil.rom, which this release does not have`,
    );
    expect(reasonOf(j, 'upper.intoto.jsonl')).toMatch(/is not a sha256/);
    expect(reasonOf(j, 'keyid.intoto.jsonl')).toMatch(
      /^the statement names key SHA256:.*, but SHA256:.* signed it/,
    );
    expect(reasonOf(j, 'verdict.intoto.jsonl')).toMatch(/^the predicate contradicts the subjects for ROM/);
    for (const rom of [ROM_A, ROM_B]) expect(romOf(j, rom).agreeing).toEqual([]);
  });

  it('an unknown predicate type (the old claimable pkg:npm name) is not counted, the reason names it', async () => {
    const s = await statementOf('alice');
    const dir = await folder({
      'old.intoto.jsonl': envelope(
        { ...s, predicateType: 'pkg:npm/reprorom#docs/attestation-v1.md' },
        keys['alice']!,
      ),
    });
    const j = await verifyJson(dir, '1');
    expect(j.ok).toBe(false);
    expect(reasonOf(j, 'old.intoto.jsonl')).toMatch(
      /^unknown predicate type "pkg:npm\/reprorom#docs\/attestation-v1\.md" \(expected https:\/\/github\.com\/.*\/blob\/main\/docs\/attestation-v1\.md\)/,
    );
    expect(s.predicateType).toMatch(
      /^https:\/\/github\.com\/[^/]+\/[^/]+\/blob\/main\/docs\/attestation-v1\.md$/,
    );
  });

  it('a trust file with one builder id under two keys, or one key under two builder ids: refused with FILE:LINE:COL (exit 2)', async () => {
    const dir = await folder({ 'alice.intoto.jsonl': envelope(await statementOf('alice'), keys['alice']!) });
    const twoKeys = join(tmp, 'two-keys.trust');
    await writeFile(twoKeys, `alice ${keys['alice']!.openssh}\nalice ${keys['mallory']!.openssh}\n`);
    const twoIds = join(tmp, 'two-ids.trust');
    await writeFile(twoIds, `alice ${keys['alice']!.openssh}\nalice2 ${keys['alice']!.openssh}\n`);
    for (const [file, what] of [
      [twoKeys, /two-keys\.trust:2:1: builder id alice is already trusted \(as alice\)/],
      [twoIds, /two-ids\.trust:2:1: the key SHA256:\S+ is already trusted \(as alice\)/],
    ] as const) {
      const r = await runCli(
        ['verify', release, '--no-rebuild', '--attestations', dir, '--trust', file, '--threshold', '1'],
        { env: bare, ...QUICK },
      );
      expectRefused(r, what);
    }
  });

  it('--threshold 0, a threshold above the trusted rebuilders, and an empty trust file: refused (exit 2), never accepted', async () => {
    const dir = await folder(
      Object.fromEntries(
        await Promise.all(
          ids.map(async (id) => [`${id}.intoto.jsonl`, envelope(await statementOf(id), keys[id]!)]),
        ),
      ),
    );
    expectRefused(await verify(dir, '0'), /--threshold 0 is not a whole number of 1 or more/);
    expectRefused(
      await verify(dir, '4'),
      /--threshold 4 but .* trusts 3 rebuilder\(s\): it can never be met/,
    );
    const empty = join(tmp, 'empty.trust');
    await writeFile(empty, '# nobody yet\n\n');
    const r = await runCli(
      ['verify', release, '--no-rebuild', '--attestations', dir, '--trust', empty, '--threshold', '1'],
      { env: bare, ...QUICK },
    );
    expectRefused(r, /empty\.trust trusts no rebuilder/);
  });

  it('attest hashes a 1 GiB rebuilt ROM streaming (memory stays flat), and refuses a FIFO, a link or a folder where a ROM should be', async () => {
    const rebuilt = join(tmp, 'rebuilt-huge');
    await mkdir(join(rebuilt, BOARD, 'out'), { recursive: true });
    await writeFile(join(rebuilt, ROM_A), '');
    await truncate(join(rebuilt, ROM_A), 1024 * 1024 * 1024);
    const before = process.resourceUsage().maxRSS;
    const roms = await hashRebuiltFolder(identity, rebuilt);
    const grew = (process.resourceUsage().maxRSS - before) / 1024;
    // sha256 of 1 GiB of zero bytes (`head -c 1073741824 /dev/zero | sha256sum`).
    expect(roms.get(ROM_A)).toBe('49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14');
    expect(roms.has(ROM_B)).toBe(false);
    expect(grew, `max RSS grew by ${grew.toFixed(0)} MiB`).toBeLessThan(128);

    const key = join(tmp, 'alice');
    const attest = (dir: string) =>
      runCli(
        [
          'attest',
          release,
          '--rebuilt',
          dir,
          '--key',
          key,
          '--builder-id',
          'alice',
          '--out',
          join(tmp, 'out.intoto.jsonl'),
        ],
        { env: bare, ...QUICK },
      );
    const fifo = join(tmp, 'rebuilt-fifo');
    await mkdir(join(fifo, BOARD, 'out'), { recursive: true });
    execFileSync('mkfifo', [join(fifo, ROM_A)]);
    expectRefused(await attest(fifo), /refused .*rebuilt-fifo\/x230\/out\/a\.rom: it is a FIFO/);
    const link = join(tmp, 'rebuilt-link');
    await mkdir(join(link, BOARD, 'out'), { recursive: true });
    await symlink(join(release, ROM_A), join(link, ROM_A));
    expectRefused(
      await attest(link),
      /refused .*rebuilt-link\/x230\/out\/a\.rom: it is a symbolic link \(to /,
    );
    const dirRom = join(tmp, 'rebuilt-dir');
    await mkdir(join(dirRom, ROM_A), { recursive: true });
    expectRefused(
      await attest(dirRom),
      /rebuilt-dir\/x230\/out\/a\.rom: it is a folder, but the release lists it as a ROM/,
    );
  });

  it('attest --run: a `build --runs 2` run folder is attested (a ROM it lacks as failed); runs that disagree, an artifact changed since, a link in it and a run of other boards are refused', async () => {
    const key = join(tmp, 'alice');
    const attest = (run: string, out = join(tmp, 'run.intoto.jsonl')) =>
      runCli(['attest', release, '--run', run, '--key', key, '--builder-id', 'alice', '--out', out], {
        env: bare,
        ...QUICK,
      });
    /** RUN/BOARD/1 and RUN/BOARD/2, each with artifacts/out/a.rom holding `bytes[i]`. */
    const runFolder = async (bytes: string[], board = BOARD): Promise<string> => {
      const run = await mkdtemp(join(tmp, 'run-'));
      for (const [i, b] of bytes.entries()) {
        const dir = join(run, board, String(i + 1));
        await mkdir(join(dir, 'artifacts', 'out'), { recursive: true });
        await writeFakeRun(dir, {
          board,
          runId: 'r1',
          index: i + 1,
          artifact: 'out/a.rom',
          bytes: b,
          durationMs: 1,
          narHash: NAR_HASH,
          imageId: `sha256:${'a'.repeat(64)}`,
          sourceHash: 'source-hash-of-commit-1',
        });
      }
      return run;
    };
    const a = BYTES[ROM_A]!.toString();
    const good = await runFolder([a, a]);
    const out = join(tmp, 'from-run.intoto.jsonl');
    const r = await attest(good, out);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^same +x230\/out\/a\.rom$/m);
    expect(r.stdout).toMatch(/^failed +x230\/out\/b\.rom$/m);
    const dir = await mkdtemp(join(tmp, 'atts-'));
    await writeFile(join(dir, 'alice.intoto.jsonl'), await readFile(out));
    const j = await verifyJson(dir, '1');
    expect(romOf(j, ROM_A)).toMatchObject({ accepted: true, agreeing: ['alice'] });
    expect(romOf(j, ROM_B)).toMatchObject({ accepted: false, agreeing: [] });

    expectRefused(
      await attest(await runFolder([a, 'other\n'])),
      /the runs disagree on x230\/out\/a\.rom: .* gave [0-9a-f]{64}, .* gave [0-9a-f]{64}; a rebuild that does not reproduce on its own machine is not attested/,
      1,
    );
    const changed = await runFolder([a, a]);
    await writeFile(join(changed, BOARD, '2', 'artifacts', 'out', 'a.rom'), 'edited\n');
    expectRefused(
      await attest(changed),
      /a\.rom has sha256 [0-9a-f]{64}, but its run recorded [0-9a-f]{64}: the run folder was changed after the build, not attested/,
    );
    const linked = await runFolder([a, a]);
    await symlink('/etc/passwd', join(linked, BOARD, '1', 'artifacts', 'out', 'extra'));
    expectRefused(await attest(linked), /refused .*extra: it is a symbolic link \(to \/etc\/passwd\)/);
    expectRefused(
      await attest(await runFolder([a, a], 'otherboard')),
      /holds no run of the release's boards \(x230\)/,
    );
  });

  it('report --attestations --trust --html: per release and ROM which trusted rebuilders agreed, differed or failed and when; untrusted ones are not shown, names are escaped', async () => {
    const same = await statementOf('alice');
    const other = await statementOf('carol', new Map([[ROM_A, OTHER]]));
    const b = await statementOf('bob');
    const evil = `${BOARD}/<script>alert(1)</script>.rom`;
    const hostile = {
      ...b,
      subject: [{ name: evil, digest: { sha256: OTHER } }],
      predicate: {
        ...b.predicate,
        release: { ...b.predicate.release, manifestSha256: 'e'.repeat(64) },
        roms: [{ name: evil, expected: OTHER, rebuilt: OTHER, verdict: 'same' }],
      },
    };
    const dir = await folder({
      'alice.intoto.jsonl': envelope(same, keys['alice']!),
      'carol.intoto.jsonl': envelope(other, keys['carol']!),
      'mallory.intoto.jsonl': envelope(await statementOf('alice'), keys['mallory']!),
      'bob-evil.intoto.jsonl': envelope(hostile, keys['bob']!),
    });
    const html = join(tmp, 'history.html');
    const r = await runCli(['report', '--attestations', dir, '--trust', trust, '--html', html, '--json'], {
      env: bare,
      ...QUICK,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const j: Json = JSON.parse(r.stdout);
    // The history is one of the report kind's documents: it validates against that schema.
    expect(schemaErrors('output/report.schema.json', j)).toEqual([]);
    expect(j).toMatchObject({ schema: 'reprorom.attestation-history/v1', ok: true, html });
    expect(j.trusted).toEqual(['alice', 'bob', 'carol']);
    const release = j.releases.find((x: Json) => x.manifestSha256 === identity.manifestSha256);
    const a = release.roms.find((x: Json) => x.rom === ROM_A);
    expect(a.rebuilds.map((x: Json) => [x.builderId, x.verdict, x.rebuilt])).toEqual(
      expect.arrayContaining([
        ['alice', 'same', sha256Bytes(BYTES[ROM_A]!)],
        ['carol', 'different', OTHER],
      ]),
    );
    expect(a.rebuilds).toHaveLength(2);
    const bRom = release.roms.find((x: Json) => x.rom === ROM_B);
    expect(bRom.rebuilds.find((x: Json) => x.builderId === 'carol')).toMatchObject({
      verdict: 'failed',
      rebuilt: null,
    });
    for (const x of a.rebuilds) expect(Date.parse(x.time)).not.toBeNaN();
    expect(j.notShown).toEqual([
      expect.objectContaining({
        file: expect.stringMatching(/mallory\.intoto\.jsonl$/),
        reason: expect.stringMatching(/^untrusted or unsigned/),
      }),
    ]);
    const page = await readFile(html, 'utf8');
    expect(page).toContain('DIFFERENT bytes');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('<script>');
    expect(page).toMatch(/mallory\.intoto\.jsonl<\/code><\/td><td>untrusted or unsigned/);
    // Without --trust nothing is shown as if it were checked.
    expectRefused(
      await runCli(['report', '--attestations', dir, '--html', html], { env: bare, ...QUICK }),
      /--attestations needs --trust FILE/,
    );
  });
});
