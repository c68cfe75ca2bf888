/** The commands that run boards: build, boot, shell. */
import type { Command } from 'commander';
import { VARIATION_NAMES } from '../../plan/variations.js';
import { collect, noVaryOption, workspaceOption } from './options.js';

/** build, boot and shell. */
export function registerBuildCommands(program: Command): void {
  program
    .command('build [boards...]')
    .description('build boards hermetically; with --runs N ≥ 2 the runs vary on purpose and are compared')
    .addOption(workspaceOption())
    .option('--all', 'build every board of the workspace')
    .option('--runs <n>', 'runs per board (≥ 2 checks reproducibility)', '1')
    .option('--jobs <n>', 'runs at once', '1')
    .option('--shard <i/n>', 'build only shard I of N (stable, balanced by recorded build times)')
    .option(
      '--store <dir>',
      'store of producer runs: producers this build pulls in are restored from it when an entry matches, producers built are kept in it (default: $REPROROM_STORE)',
    )
    .option('--junit <file>', 'write a JUnit report (one test case per board × artifact)')
    .option('--boot', "boot each run's artifacts with the board's boot check")
    .option(
      '--log-lines <n>',
      "lines of a failed run's output shown under the failure (and in --json, JUnit, GitHub)",
      '40',
    )
    .option('--no-explain', 'after a mismatch, do not rebuild one variation at a time to name the culprit')
    .option(
      '--verbose',
      "stream every line of the builds' output to stderr (it is always in the run's BOARD.log)",
    )
    .option(
      '--vary <names>',
      `variations to add to the defaults, comma-separated: ${VARIATION_NAMES.join(', ')}, all`,
      collect,
    )
    .addOption(noVaryOption())
    .option(
      '--machine <name>',
      'name this machine in the manifests, so N-way comparison can say which machine disagrees',
    )
    .option('--json', 'machine-readable output')
    .action(async (boards: string[], opts: import('../commands/build.js').BuildCliOptions) => {
      const { runBuildCommand } = await import('../commands/build.js');
      process.exitCode = await runBuildCommand(boards, opts);
    });

  program
    .command('boot <board> [run]')
    .description(
      "boot a run's artifacts in QEMU and check the board's expected output (default: the latest run)",
    )
    .addOption(workspaceOption())
    .option('--json', 'machine-readable output')
    .action(async (board: string, run: string | undefined, opts: { workspace: string; json?: boolean }) => {
      const { runBoot } = await import('../commands/boot.js');
      process.exitCode = await runBoot(board, run, opts);
    });

  program
    .command('shell <target>')
    .description(
      'an interactive shell in the image of a board (its source at /build/src) or of an image; NOT hermetic, writes no manifests',
    )
    .addOption(workspaceOption())
    .option('-c, --command <cmd>', 'run this command instead of an interactive shell')
    .action(async (target: string, opts: { workspace: string; command?: string }) => {
      const { runShell } = await import('../commands/shell.js');
      process.exitCode = await runShell(target, opts);
    });
}
