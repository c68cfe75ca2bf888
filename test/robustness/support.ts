/**
 * Shared pieces of the robustness suite: start the CLI and signal it at a
 * stage, find what a run left behind, make tiny local boards. Every check is
 * scoped to this suite's own boards and images, because other work shares the engine.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

export const CLI = join(repoRoot, 'bin/reprorom.js');

/** A stack trace line (`    at fn (file:1:2)`) must never reach the user. */
export function expectNoStack(text: string): void {
  expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(text).not.toMatch(/internal error/);
}

/** mulberry32: a small seeded generator, so every case can be replayed from its seed. */
export function seeded(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** Board names unique to this process, so container filters never see another test's work. */
export const tag = `rr${process.pid.toString(36)}`;

/** A tiny local board in workspace `ws`: its own source folder, the cached `firmware` image. */
export async function board(ws: string, name: string, body: string): Promise<void> {
  await mkdir(join(ws, 'src', name), { recursive: true });
  await writeFile(join(ws, 'src', name, 'README'), 'x\n');
  await writeFile(
    join(ws, 'boards', `${name}.yaml`),
    `image: firmware\nsource: { type: local, path: src/${name} }\n${body}`,
  );
}

/** Containers (running or not) of one board; only boards this suite named. */
export async function containersOf(boardName: string): Promise<string[]> {
  const r = await execa('docker', ['ps', '-aq', '--filter', `label=reprorom.board=${boardName}`]);
  return r.stdout.split('\n').filter(Boolean);
}

export async function danglingImages(): Promise<Set<string>> {
  const r = await execa('docker', ['images', '-f', 'dangling=true', '-q', '--no-trunc']);
  return new Set(r.stdout.split('\n').filter(Boolean));
}

/** Temporary or half-written names a stage may leave: `*.tmp*`, `.tmp-*`, `.work-*`, `.download-*`, `-list-*`. */
export async function leftovers(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true }))
    .map(String)
    .filter((p) => /\.tmp|(^|\/)\.?tmp-|\.work-|\.download-|-list-/.test(p));
}

export interface Interrupted {
  exitCode: number | undefined;
  stderr: string;
  stdout: string;
  /** Whether the marker appeared and the signal was sent. */
  sent: boolean;
}

/**
 * Start the CLI and send `signal` once `when` says so: a marker on stderr, or a
 * poll (e.g. "the container has exited"). The signal goes to the node process only,
 * as `kill -INT PID` would; execa must not SIGKILL it while it cleans up.
 */
export async function interruptAt(
  args: string[],
  when: RegExp | (() => Promise<boolean>),
  signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP',
  env: Record<string, string> = {},
  /** A second signal as soon as stderr shows the first was received (an impatient user pressing Ctrl-C twice). */
  again?: 'SIGINT' | 'SIGTERM' | 'SIGHUP',
): Promise<Interrupted> {
  const child = execa(process.execPath, [CLI, ...args], {
    reject: false,
    stdin: 'ignore',
    env: { NO_COLOR: '1', ...env },
    forceKillAfterDelay: false,
    timeout: 300_000,
  });
  let err = '';
  let sent = false;
  const fire = () => {
    if (sent) return;
    sent = true;
    child.kill(signal);
  };
  let repeated = false;
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    if (when instanceof RegExp && when.test(err)) fire();
    if (again && sent && !repeated && / received, stopping/.test(err)) {
      repeated = true;
      child.kill(again);
    }
  });
  let polling = typeof when === 'function';
  const poll = async () => {
    while (polling && !sent) {
      if (typeof when === 'function' && (await when())) fire();
      else await new Promise((r) => setTimeout(r, 40));
    }
  };
  const poller = poll();
  const r = await child;
  polling = false;
  await poller;
  return { exitCode: r.exitCode, stderr: String(r.stderr), stdout: String(r.stdout), sent };
}

/**
 * A workspace whose only image, `synth`, comes from a tiny local flake unique to
 * `salt`: its store paths, layers and image ID belong to this suite alone, so it
 * may delete them (never the offline toolchain other work relies on).
 */
export async function synthWorkspace(
  salt: string,
  o: { bytes: number; files?: number },
): Promise<{ ws: string; storeName: string }> {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { writeSyntheticFlake } = await import('../helpers/syntheticFlake.js');
  const { runCli } = await import('../helpers/cli.js');
  const ws = await mkdtemp(join(tmpdir(), 'rr-synth-'));
  await writeSyntheticFlake(join(ws, 'pins/synth'), {
    packages: 1,
    bytesPerPackage: o.bytes,
    filesPerPackage: o.files ?? 1,
    bump: { index: 0, salt },
  });
  await writeFile(
    join(ws, 'pins/synth.yaml'),
    'flake: path:./pins/synth\npackageSet: packages\nnarHash: sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n',
  );
  await mkdir(join(ws, 'images'), { recursive: true });
  await mkdir(join(ws, 'boards'), { recursive: true });
  await writeFile(join(ws, 'images/synth.yaml'), 'pin: synth\npackages: [shell, p0]\n');
  const lock = await runCli(['pin', 'lock', 'synth', '-w', ws]);
  if (lock.exitCode !== 0) throw new Error(`pin lock synth failed: ${lock.stderr}`);
  return { ws, storeName: 'p0' };
}
