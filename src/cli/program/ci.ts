/** The ci command group: one generator command per CI system. */
import type { Command } from 'commander';
import { workspaceOption } from './options.js';

/** ci github, ci circleci. */
export function registerCiCommands(program: Command): void {
  const ci = program.command('ci').description('write CI workflows that build, shard, merge and compare');
  for (const system of ['github', 'circleci'] as const) {
    const command = ci
      .command(system)
      .description(
        `write a ${system === 'github' ? 'GitHub Actions' : 'CircleCI'} workflow for this workspace`,
      )
      .addOption(workspaceOption())
      .option('--shards <n>', 'parallel board jobs', '2')
      .option('--out <file>', "file to write (default: the CI system's usual path)")
      .option('--stdout', 'print instead of writing')
      .option('--force', 'replace the file if it exists')
      .option(
        '--container <image>',
        'the container jobs run in; pin it by digest: IMAGE@sha256:… (default: node:20-bookworm, with a warning)',
      )
      .option(
        '--reprorom-from <owner/name@commit>',
        'install reprorom from this GitHub repository and full commit (needed unless package.json has reprorom)',
      )
      .option(
        '--branch <name>',
        system === 'github'
          ? "the branch whose pushes run the workflow (default: the workspace checkout's current branch); pull requests always run"
          : 'run the workflow only for pushes to this branch (default: every branch)',
      )
      .option('--json', 'machine-readable output')
      .option(
        '--rebuilder',
        'instead: an independent rebuilder that, on a schedule and on a new release, rebuilds the published release with verify and publishes a signed attestation (key from the REPROROM_REBUILDER_KEY secret)',
      )
      .option(
        '--release-url <url>',
        'with --rebuilder: https URL of the published release folder as a .tar.gz',
      )
      .option(
        '--builder-id <id>',
        'with --rebuilder: the name this rebuilder signs as (trust files bind it to its key)',
      )
      .option(
        '--schedule <cron>',
        `with --rebuilder: when to rebuild, five cron fields in UTC (default "17 3 * * 1")`,
      );
    if (system === 'circleci')
      command.option('--resource-class <class>', 'resource class of the image and board jobs', 'large');
    command.action(async (opts: import('../commands/ci.js').CiCliOptions) => {
      const { runCiGenerate } = await import('../commands/ci.js');
      process.exitCode = await runCiGenerate(system, opts);
    });
  }
}
