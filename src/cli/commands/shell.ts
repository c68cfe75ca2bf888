/**
 * `reprorom shell IMAGE|BOARD`: a shell in the pinned image, with the board's
 * source copied to the same fixed path a build uses — what `nix develop` or Heads'
 * docker_local_dev.sh give a developer. It is not hermetic and never writes
 * manifests: only `reprorom build` produces results.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { connectEngine } from '../../engine/docker.js';
import { prepareImage } from '../../imagebuild/prepare.js';
import { planBoard, planImage } from '../../plan/plan.js';
import { sourceTar } from '../../runs/sourceTar.js';
import { prepareSource } from '../../sources/prepare.js';
import { UsageError } from '../../util/errors.js';
import { ensureStateDir } from '../../util/paths.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import { writeErr } from '../output.js';
import { progress } from '../progress.js';

export interface ShellCliOptions {
  workspace: string;
  command?: string;
}

export async function runShell(target: string, opts: ShellCliOptions): Promise<number> {
  const ws = await loadValidWorkspace(opts.workspace);
  const planned = ws.boards.has(target) ? planBoard(ws, target, 1, 1) : undefined;
  if (!planned && !ws.images.has(target)) {
    throw new UsageError(
      `"${target}" is neither a board nor an image of ${ws.root}`,
      `choose one of: ${[...ws.boards.keys(), ...ws.images.keys()].join(', ')}`,
    );
  }
  const board = planned?.board;
  const engine = connectEngine();
  const status = await progress(`shell ${target}`);
  const image = await prepareImage(planned?.image ?? planImage(ws, target), engine, {
    onStep: (s) => status.update(s),
  });
  const work = await mkdtemp(join(await ensureStateDir(ws.root), 'shell-'));
  try {
    const source = board
      ? await prepareSource(ws.root, board.source, { into: join(work, 'src') })
      : undefined;
    status.done(`shell ${target}: image ${image.tag}${source ? `, source at /build/src` : ''}`);
    writeErr('reprorom shell is NOT hermetic: nothing here is recorded; use `reprorom build` for results.\n');
    const tty = Boolean(process.stdin.isTTY) && opts.command === undefined;
    if (tty) process.stdin.setRawMode(true);
    try {
      const result = await engine.runContainer({
        image: image.id,
        cmd: opts.command === undefined ? ['/bin/sh', '-i'] : ['/bin/sh', '-c', opts.command],
        env: {
          ...(board?.env ?? {}),
          SOURCE_DATE_EPOCH: String(typeof board?.sourceDateEpoch === 'number' ? board.sourceDateEpoch : 1),
        },
        user: '1000:1000',
        workingDir: source ? '/build/src' : '/build',
        hostname: 'reprorom-shell',
        labels: { 'reprorom.shell': target },
        interactive: { stdin: process.stdin, stdout: process.stdout, tty },
        beforeStart: async (id) => {
          if (source) {
            await engine.putArchive(
              id,
              '/build',
              sourceTar(source.dir, source.entries, {
                prefix: 'src',
                uid: 1000,
                order: 'sorted',
                seed: 0,
                mtime: 1,
              }),
            );
          }
          await engine.putArchive(
            id,
            '/build',
            sourceTar(work, [], { prefix: 'home', uid: 1000, order: 'sorted', seed: 0, mtime: 1 }),
          );
        },
      });
      return result.exitCode;
    } finally {
      if (tty) process.stdin.setRawMode(false);
      process.stdin.pause();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
