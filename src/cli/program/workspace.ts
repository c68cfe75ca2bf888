/** The commands about the workspace itself: check, init, list, doctor, and schemas. */
import type { Command } from 'commander';
import { collect, workspaceOption } from './options.js';

/** check, init, list and doctor. */
export function registerWorkspaceCommands(program: Command): void {
  program
    .command('check')
    .description('validate every workspace file and reference')
    .addOption(workspaceOption())
    .option('--json', 'machine-readable output')
    .action(async (opts: { workspace: string; json?: boolean }) => {
      const { runCheck } = await import('../commands/check.js');
      process.exitCode = await runCheck(opts);
    });

  program
    .command('init')
    .description(
      'write a first workspace into this firmware repository: the offline toolchain, its image and one board building the repository itself (never overwrites a file)',
    )
    .addOption(workspaceOption())
    .option('--board <name>', "the board's name (default: the folder's name)")
    .option(
      '--command <cmd>',
      'the build command, as you run it in the repository (repeatable; asked for on a terminal)',
      collect,
    )
    .option(
      '--artifact <path>',
      'a ROM the command makes, relative to the repository (repeatable; asked for on a terminal)',
      collect,
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: import('../commands/init.js').InitCliOptions) => {
      const { runInit } = await import('../commands/init.js');
      process.exitCode = await runInit(opts);
    });

  program
    .command('list')
    .description(
      'list the boards: image, source, inputs, and whether build --all takes them or a mismatch is expected',
    )
    .addOption(workspaceOption())
    .option('--json', 'machine-readable output')
    .action(async (opts: { workspace: string; json?: boolean }) => {
      const { runList } = await import('../commands/list.js');
      process.exitCode = await runList(opts);
    });

  program
    .command('doctor')
    .description('check the Docker engine, nix, diffoscope and free disk')
    .addOption(workspaceOption())
    .option('--json', 'machine-readable output')
    .action(async (opts: { workspace: string; json?: boolean }) => {
      const { runDoctor } = await import('../commands/doctor.js');
      process.exitCode = await runDoctor(opts);
    });
}

/** schemas: the JSON Schemas of the workspace files. */
export function registerSchemasCommand(program: Command): void {
  program
    .command('schemas')
    .description('write the JSON Schemas of the workspace files')
    .option('--out <dir>', 'output folder', 'schemas')
    .option('--json', 'machine-readable output')
    .action(async (opts: { out: string; json?: boolean }) => {
      const { runSchemas } = await import('../commands/schemas.js');
      process.exitCode = await runSchemas(opts);
    });
}
