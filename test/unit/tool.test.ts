/**
 * The one runner for external tools maps the two failures every tool shares: not installed
 * (an EnvironmentError with the install hint) and failed (the caller's error with the last
 * lines of stderr). Real processes (sh), no stubs.
 */
import { describe, expect, it } from 'vitest';
import { BuildFailedError, EnvironmentError, ExitCode } from '../../src/util/errors.js';
import { runTool, runToolResult } from '../../src/util/tool.js';

const install = 'install it: apt-get install -y frobnicator';

describe('runTool', () => {
  it('returns stdout without the final newline', async () => {
    expect(await runTool('sh', ['-c', 'echo hello'], { install })).toBe('hello');
  });

  it('a tool that is not installed is an EnvironmentError naming it, with the install hint', async () => {
    const err = await runTool('reprorom-no-such-tool', ['x'], { install }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as EnvironmentError).message).toBe('reprorom-no-such-tool is not installed');
    expect((err as EnvironmentError).hint).toBe(install);
    expect((err as EnvironmentError).exitCode).toBe(ExitCode.environment);
    const answer = await runToolResult('reprorom-no-such-tool', [], { install }).catch((e: unknown) => e);
    expect(answer).toBeInstanceOf(EnvironmentError);
  });

  it('a failed run says which tool and the last lines it wrote to stderr, as the caller’s error', async () => {
    const script = 'for i in 1 2 3 4 5 6 7 8; do echo "line $i" >&2; done; echo; exit 3';
    const err = await runTool('sh', ['-c', script], {
      install,
      tailLines: 2,
      failed: (message, cause) => new BuildFailedError(message, undefined, { cause }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildFailedError);
    expect((err as Error).message).toBe('sh -c failed: line 7\n  line 8');
    const plain = await runTool('sh', ['-c', 'exit 1'], { install }).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(EnvironmentError);
    expect((plain as Error).message).toMatch(/^sh -c failed: Command failed with exit code 1/);
  });

  it('an exit code that is an answer comes back with both streams', async () => {
    const r = await runToolResult('sh', ['-c', 'echo out; echo err >&2; exit 2'], { install });
    expect(r).toEqual({ stdout: 'out', stderr: 'err', exitCode: 2 });
  });
});
