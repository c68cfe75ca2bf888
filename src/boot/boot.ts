/**
 * Boots a run's artifact in QEMU and watches the chosen output channel for the
 * expected text. QEMU is always killed: when the text appears, at the time
 * limit, or on Ctrl-C; what it printed so far stays in boot.log in the run folder.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { safeJoin } from '../build/extract.js';
import type { BootJson } from '../build/report.js';
import { recordBoot } from '../hashes/manifest.js';
import { EnvironmentError } from '../util/errors.js';
import type { Board } from '../workspace/schema.js';
import { qemuArgs, qemuBinary } from './qemuArgs.js';

export interface BootInput {
  boardName: string;
  board: Board;
  /** A run folder: …/runs/RUN/BOARD/N */
  runDir: string;
  signal?: AbortSignal;
}

const POLL_MS = 200;

export async function bootRun(input: BootInput): Promise<BootJson> {
  const spec = input.board.boot;
  if (!spec) throw new EnvironmentError(`board ${input.boardName} has no boot: check`);
  const artifact = safeJoin(join(input.runDir, 'artifacts'), spec.artifact);
  const log = join(input.runDir, 'boot.log');
  const started = Date.now();
  if (!artifact || !existsSync(artifact)) {
    return {
      ok: false,
      artifact: spec.artifact,
      matched: null,
      durationMs: 0,
      log,
      message: `artifact ${spec.artifact} is not in ${input.runDir}`,
    };
  }
  // QEMU may write to a -bios/-drive file: boot a copy so the run's artifact stays as hashed.
  const copy = join(input.runDir, `.boot-${process.pid}.img`);
  await copyFile(artifact, copy);
  const output = join(input.runDir, `.boot-${process.pid}.out`);
  await writeFile(output, '');
  // KVM only helps a guest of the host's own architecture; everything else is emulated.
  const kvm =
    existsSync('/dev/kvm') && process.arch === 'x64' && (spec.arch === 'x86_64' || spec.arch === 'i386');
  const child = spawn(qemuBinary(spec), qemuArgs(spec, copy, output, kvm), {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(-1));
  });
  let spawnError: NodeJS.ErrnoException | undefined;
  child.on('error', (e) => {
    spawnError = e;
  });
  const pattern = new RegExp(spec.expect);
  let matched: string | null = null;
  let exitedEarly = false;
  try {
    const deadline = started + spec.timeout * 1000;
    for (;;) {
      const text = await readFile(output, 'latin1');
      const m = pattern.exec(text);
      if (m) {
        matched = m[0];
        break;
      }
      if (spawnError || child.exitCode !== null || input.signal?.aborted || Date.now() >= deadline) {
        exitedEarly = child.exitCode !== null;
        break;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    const seen = await readFile(output, 'latin1').catch(() => '');
    await writeFile(log, `${seen}${stderr ? `\n--- qemu stderr ---\n${stderr}` : ''}`);
    await Promise.all(
      [copy, output].map((f) => import('node:fs/promises').then((fs) => fs.rm(f, { force: true }))),
    );
  }
  input.signal?.throwIfAborted();
  if (spawnError?.code === 'ENOENT') {
    throw new EnvironmentError(
      `${qemuBinary(spec)} is not installed`,
      `apt-get install -y ${spec.arch === 'riscv64' || spec.arch === 'aarch64' ? 'qemu-system-misc' : 'qemu-system-x86'}`,
    );
  }
  const durationMs = Date.now() - started;
  const message = matched
    ? `booted: "${matched}" seen on ${spec.channel} after ${(durationMs / 1000).toFixed(1)} s`
    : exitedEarly
      ? `QEMU exited before /${spec.expect}/ appeared on ${spec.channel}; log: ${log}`
      : `/${spec.expect}/ did not appear on ${spec.channel} within ${spec.timeout} s; QEMU was killed; log: ${log}`;
  const result = { ok: matched !== null, artifact: spec.artifact, matched, durationMs, log, message };
  const { log: _log, ...recorded } = result;
  await recordBoot(input.runDir, recorded);
  return result;
}
