/** The commands over run folders: compare, merge and report. */
import type { Command } from 'commander';
import { workspaceOption } from './options.js';

/** compare: run folders, manifests or hashes.txt files, with mismatches explained. */
export function registerCompareCommand(program: Command): void {
  program
    .command('compare <inputs...>')
    .description(
      'compare run folders, manifest.json or hashes.txt files (reprorom or Heads) and explain mismatches',
    )
    .option('--json', 'machine-readable output')
    .option('--report <dir>', 'folder for diff reports (default: diff/ beside the first manifest)')
    .option(
      '--junit <file>',
      'write a JUnit report (one test case per artifact; a mismatch fails with both hashes)',
    )
    .option(
      '--allow-expected',
      'between run folders only: a mismatch of a board the workspace declares expectMismatch is expected (exit 0); published hashes never excuse one',
    )
    .option(
      '--culprit-runs',
      'include culprit-search reruns (left out by default: they are not runs of a build)',
    )
    .addOption(workspaceOption())
    .action(async (inputs: string[], opts: import('../commands/compare.js').CompareCliOptions) => {
      const { runCompare } = await import('../commands/compare.js');
      process.exitCode = await runCompare(inputs, opts);
    });
}

/** merge and report. */
export function registerRunFolderCommands(program: Command): void {
  program
    .command('merge <runs...>')
    .description('merge run folders or manifests from many machines into one run folder')
    .requiredOption('--out <dir>', 'merged run folder to write')
    .option(
      '--culprit-runs',
      'include culprit-search reruns (left out by default: they are not runs of a build)',
    )
    .option('--json', 'machine-readable output')
    .action(async (runs: string[], opts: { out: string; json?: boolean; culpritRuns?: boolean }) => {
      const { runMerge } = await import('../commands/merge.js');
      process.exitCode = await runMerge(runs, opts);
    });

  program
    .command('report [runs...]')
    .description(
      'write a self-contained HTML page: boards × runs grid with hashes, sizes, times and links (or, with --attestations, the history of rebuild attestations)',
    )
    .requiredOption(
      '--html <file>',
      'HTML file to write (the only file written: diff reports are shown in it)',
    )
    .option(
      '--diff-dir <dir>',
      "also keep each mismatch's diff reports (text, and diffoscope's HTML) in this folder; the page links them",
    )
    .option(
      '--attestations <path...>',
      "instead of run folders: rebuilders' attestation files or folders; the page shows, per release and ROM, which trusted rebuilders agreed or differed and when",
    )
    .option(
      '--trust <file>',
      'with --attestations: trusted rebuilders, "BUILDER-ID ssh-ed25519 AAAA…" per line',
    )
    .option('--json', 'machine-readable output')
    .action(async (runs: string[], opts: import('../commands/report.js').ReportCliOptions) => {
      const { runReport } = await import('../commands/report.js');
      process.exitCode = await runReport(runs, opts);
    });
}
