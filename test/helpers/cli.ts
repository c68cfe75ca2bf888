/** Run the built CLI (`node bin/reprorom.js …`) as a user would, capturing everything. */
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** The CLI process's id: its containers carry it in their owner label (see test/helpers/containers.ts). */
  pid: number;
}

export async function runCli(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const child = execa(process.execPath, [`${repoRoot}bin/reprorom.js`, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: { NO_COLOR: '1', ...opts.env },
    reject: false,
    stdin: 'ignore',
    timeout: opts.timeoutMs ?? 300_000,
  });
  const pid = child.pid ?? -1;
  const r = await child;
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1, pid };
}
