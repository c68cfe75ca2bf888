/**
 * Entry point: parses argv and lazily imports the one command module it needs,
 * so `reprorom --version` stays fast. Every error ends here, as one message and an exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import type { JsonKind } from '../contracts/json.js';
import { VARIATION_NAMES } from '../plan/variations.js';
import { ExitCode, hostFileSystemFault, ReproromError } from '../util/errors.js';
import { interruptForClosedPipe } from '../util/interrupt.js';
import { cacheDir } from '../util/paths.js';
import { toolVersion } from '../util/version.js';
import { errorJson, jsonKindOf, outcomeError, printFailure, writeErr } from './output.js';

const workspaceOption = () =>
  new Option('-w, --workspace <dir>', 'workspace folder (pins/, images/, boards/)').default('.');

/** A repeatable list option: each use adds its (comma-separated) names. */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * `--no-vary <names>` takes names: commander would read a `--no-` option as the negation
 * of `--vary`, so it is told otherwise (its own attribute, noVary).
 */
function noVaryOption(): Option {
  const option = new Option(
    '--no-vary <names>',
    'variations to turn off, comma-separated (or all)',
  ).argParser(collect);
  option.negate = false;
  option.attributeName = () => 'noVary';
  return option;
}

export function buildProgram(): Command {
  const program = new Command('reprorom')
    .description(
      'Reproducible firmware builds: pinned Nix environment → deterministic image → hermetic board builds → compared ROM hashes',
    )
    .version(toolVersion(), '-V, --version')
    .showHelpAfterError('(run `reprorom --help` for usage)')
    // One prefix for every error: commander's own ("error: unknown option") reads as ours.
    // Set before any command is added: subcommands copy it.
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'reprorom: ')) })
    .exitOverride();

  program
    .command('check')
    .description('validate every workspace file and reference')
    .addOption(workspaceOption())
    .option('--json', 'machine-readable output')
    .action(async (opts: { workspace: string; json?: boolean }) => {
      const { runCheck } = await import('./commands/check.js');
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
    .action(async (opts: import('./commands/init.js').InitCliOptions) => {
      const { runInit } = await import('./commands/init.js');
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
      const { runList } = await import('./commands/list.js');
      process.exitCode = await runList(opts);
    });

  program
    .command('doctor')
    .description('check the Docker engine, nix, diffoscope and free disk')
    .addOption(workspaceOption())
    .option('--json', 'machine-readable output')
    .action(async (opts: { workspace: string; json?: boolean }) => {
      const { runDoctor } = await import('./commands/doctor.js');
      process.exitCode = await runDoctor(opts);
    });

  const pin = program.command('pin').description('lock, verify and fetch pinned package sets');
  pin
    .command('lock <name>')
    .description('compute the narHash of a pin (resolving --ref to a commit first) and write it')
    .addOption(workspaceOption())
    .option('--ref <flakeref>', 'new flake reference, e.g. github:NixOS/nixpkgs/nixos-unstable')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { workspace: string; ref?: string; json?: boolean }) => {
      const { runPinLock } = await import('./commands/pinLock.js');
      process.exitCode = await runPinLock(name, opts);
    });
  pin
    .command('verify [name]')
    .description('re-hash pins and refuse any whose content no longer matches')
    .addOption(workspaceOption())
    .option('--json', 'machine-readable output')
    .action(async (name: string | undefined, opts: { workspace: string; json?: boolean }) => {
      const { runPinVerify } = await import('./commands/pinLock.js');
      process.exitCode = await runPinVerify(name, opts);
    });
  pin
    .command('fetch <name>')
    .description('download and verify the Debian packages of an offline package set, and seed the nix store')
    .addOption(workspaceOption())
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { workspace: string; json?: boolean }) => {
      const { runPinFetch } = await import('./commands/pin.js');
      process.exitCode = await runPinFetch(name, opts);
    });

  const image = program.command('image').description('build deterministic images from pinned package sets');
  image
    .command('build <name>')
    .description('build (or answer from the cache) the image and print its ID')
    .addOption(workspaceOption())
    .option('--out <file>', 'also write the docker-archive to this file')
    .option('--oci <dir>', 'also write the OCI image layout to this folder')
    .option('--rebuild', 'ignore the cache')
    .option('--no-load', 'do not load the image into the Docker engine')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: import('./commands/imageBuild.js').ImageBuildCliOptions) => {
      const { runImageBuild } = await import('./commands/imageBuild.js');
      process.exitCode = await runImageBuild(name, opts);
    });

  program
    .command('build [boards...]')
    .description('build boards hermetically; with --runs N ≥ 2 the runs vary on purpose and are compared')
    .addOption(workspaceOption())
    .option('--all', 'build every board of the workspace')
    .option('--runs <n>', 'runs per board (≥ 2 checks reproducibility)', '1')
    .option('--jobs <n>', 'runs at once', '1')
    .option('--shard <i/n>', 'build only shard I of N (stable, balanced by recorded build times)')
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
    .action(async (boards: string[], opts: import('./commands/build.js').BuildCliOptions) => {
      const { runBuildCommand } = await import('./commands/build.js');
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
      const { runBoot } = await import('./commands/boot.js');
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
      const { runShell } = await import('./commands/shell.js');
      process.exitCode = await runShell(target, opts);
    });

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
    .action(async (inputs: string[], opts: import('./commands/compare.js').CompareCliOptions) => {
      const { runCompare } = await import('./commands/compare.js');
      process.exitCode = await runCompare(inputs, opts);
    });

  program
    .command('release <boards...>')
    .description(
      'build boards with varied runs, refuse anything not reproducible, and write a release folder',
    )
    .addOption(workspaceOption())
    .requiredOption('--out <dir>', 'release folder to write')
    .option('--runs <n>', 'runs per board (at least 2)', '2')
    .option('--jobs <n>', 'runs at once', '1')
    .option('--vary <names>', 'variations to add to the defaults (see build --help)', collect)
    .addOption(noVaryOption())
    .option(
      '--allow-dirty',
      'release a local source that differs from its git commit (or is in no git checkout); the provenance marks it dirty',
    )
    .option('--json', 'machine-readable output')
    .action(async (boards: string[], opts: import('./commands/release.js').ReleaseCliOptions) => {
      const { runRelease } = await import('./commands/release.js');
      process.exitCode = await runRelease(boards, opts);
    });

  program
    .command('sign <dir>')
    .description("sign a release folder's manifests (OpenSSH or OpenPGP detached signatures)")
    .requiredOption('--key <key>', 'OpenSSH private key file, or a GnuPG key id / fingerprint')
    .option('--format <format>', 'ssh or gpg (default: guessed from the key)')
    .option('--json', 'machine-readable output')
    .action(async (dir: string, opts: { key: string; format?: string; json?: boolean }) => {
      const { runSign } = await import('./commands/sign.js');
      process.exitCode = await runSign(dir, opts);
    });

  program
    .command('attest <release>')
    .description(
      "sign an independent rebuilder's attestation of a release's ROMs (in-toto statement in a DSSE envelope)",
    )
    .requiredOption('--rebuilt <dir>', 'the rebuilt ROMs, as BOARD/PATH like the release')
    .requiredOption('--key <file>', "the rebuilder's OpenSSH ed25519 private key file")
    .requiredOption('--builder-id <id>', 'the name this rebuilder goes by in trust files')
    .requiredOption('--out <file>', 'where to write the .intoto.jsonl envelope')
    .option('--variation <name...>', 'build variations the rebuild used')
    .action(async (release: string, opts: import('./commands/attest.js').AttestCliOptions) => {
      const { runAttest } = await import('./commands/attest.js');
      process.exitCode = await runAttest(release, opts);
    });

  program
    .command('verify <release>')
    .usage('<DIR|file-URL> [options]')
    .description(
      'check the signatures, then rebuild what the provenance describes and compare every artifact (or, with --no-rebuild, check signatures and hashes only); DIR is a release folder (or a file:// URL of one), or a Heads-style hashes.txt with --rom and --board',
    )
    .addOption(workspaceOption())
    .option('--key <key>', 'OpenSSH public key file (or allowed_signers file), or a GnuPG public key file')
    .option('--keyring <file>', 'GnuPG keyring holding the signing key')
    .option('--no-rebuild', 'signatures and hashes only: no workspace, Docker engine or nix needed')
    .option(
      '--rom <name>',
      'with --no-rebuild: a ROM file to check against the signed hashes; with a Heads-style hashes.txt: the ROM file name to rebuild and check',
    )
    .option('--board <board>', 'with a Heads-style hashes.txt: the board that builds that ROM')
    .option(
      '--attestations <path...>',
      "with --no-rebuild: independent rebuilders' attestation files, or folders of them; each ROM is accepted when --threshold trusted rebuilders agree",
    )
    .option(
      '--trust <file>',
      'with --attestations: trusted rebuilders, "BUILDER-ID ssh-ed25519 AAAA…" per line',
    )
    .option('--threshold <k>', 'with --attestations: how many trusted rebuilders must agree on each ROM')
    .option(
      '--allow-disagreement',
      'with --attestations: a trusted rebuilder that attests other bytes does not fail the ROM (it is still named)',
    )
    .option(
      '--max-age <age>',
      'with --attestations: attestations older than this (30d, 12h, 90m) do not count',
    )
    .option('--json', 'machine-readable output')
    .action(async (release: string, opts: import('./commands/verify.js').VerifyCliOptions) => {
      const { runVerify } = await import('./commands/verify.js');
      process.exitCode = await runVerify(release, opts);
    });

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
      const { runMerge } = await import('./commands/merge.js');
      process.exitCode = await runMerge(runs, opts);
    });

  program
    .command('report <runs...>')
    .description('write a self-contained HTML page: boards × runs grid with hashes, sizes, times and links')
    .requiredOption(
      '--html <file>',
      'HTML file to write (the only file written: diff reports are shown in it)',
    )
    .option(
      '--diff-dir <dir>',
      "also keep each mismatch's diff reports (text, and diffoscope's HTML) in this folder; the page links them",
    )
    .option('--json', 'machine-readable output')
    .action(async (runs: string[], opts: { html: string; diffDir?: string; json?: boolean }) => {
      const { runReport } = await import('./commands/report.js');
      process.exitCode = await runReport(runs, opts);
    });

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
      .option('--json', 'machine-readable output');
    if (system === 'circleci')
      command.option('--resource-class <class>', 'resource class of the image and board jobs', 'large');
    command.action(async (opts: import('./commands/ci.js').CiCliOptions) => {
      const { runCiGenerate } = await import('./commands/ci.js');
      process.exitCode = await runCiGenerate(system, opts);
    });
  }

  program
    .command('schemas')
    .description('write the JSON Schemas of the workspace files')
    .option('--out <dir>', 'output folder', 'schemas')
    .option('--json', 'machine-readable output')
    .action(async (opts: { out: string; json?: boolean }) => {
      const { runSchemas } = await import('./commands/schemas.js');
      process.exitCode = await runSchemas(opts);
    });

  return program;
}

/** The exit code of a closed pipe, as coreutils give. */
const CLOSED_PIPE_EXIT = 128 + 13;
let pipeClosed = false;

/**
 * `reprorom compare … | head -1`, `reprorom build … 2>&1 | head -3`: the reader went away.
 * That is the reader's choice, not a failure to report. A command that holds a lock, a
 * container or temporary files stops and cleans up as after a signal; otherwise it stops
 * at once. Either way it exits quietly with the code of a closed pipe.
 */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    // After the first EPIPE, every write to that stream fails again: nothing more to do.
    if (pipeClosed) return;
    if (err.code !== 'EPIPE') throw err;
    pipeClosed = true;
    if (!interruptForClosedPipe()) process.exit(CLOSED_PIPE_EXIT);
  });
}

export async function main(argv: string[]): Promise<void> {
  quietOnClosedPipe(process.stdout);
  quietOnClosedPipe(process.stderr);
  const program = buildProgram();
  // Node exits quietly with code 0 when nothing is left to wait for, e.g. when the engine
  // dropped a connection without an answer. A command that has not finished must not look like success.
  // With --json, stdout carries a result even when the command fails (src/contracts/json.ts).
  const jsonKind = jsonKindOf(argv.slice(2));
  let finished = false;
  const unfinished = () => {
    if (finished) return;
    const message = 'the command stopped before it finished (a connection closed without an answer)';
    const hint =
      'check that the Docker engine is still running (reprorom doctor), then run the same command again';
    writeErr(`reprorom: ${message}\n  → ${hint}\n`);
    printFailure(jsonKind, outcomeError(ExitCode.environment, message, hint));
    process.exit(ExitCode.environment);
  };
  process.once('beforeExit', unfinished);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err, jsonKind);
  } finally {
    if (pipeClosed) process.exitCode = CLOSED_PIPE_EXIT;
    finished = true;
    process.off('beforeExit', unfinished);
  }
}

/**
 * The one place that turns an error into a message and an exit code; with `--json` (`jsonKind`)
 * also into the failure object on stdout, unless the command already printed its result.
 */
export function reportError(err: unknown, jsonKind?: JsonKind): number {
  if (err instanceof CommanderError) {
    // commander already printed its message; --help and --version are successes.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
    // `reprorom help` asked for help (exit 0); a bare `reprorom` or `reprorom ci` named no command:
    // commander printed the help on stderr, and that is a usage error like any other.
    if (err.code === 'commander.help') return err.exitCode === 0 ? ExitCode.ok : ExitCode.config;
    printFailure(jsonKind, outcomeError(ExitCode.config, err.message.replace(/^error: /, '')));
    return ExitCode.config;
  }
  if (err instanceof ReproromError) {
    writeErr(`reprorom: ${err.message}\n`);
    if (err.hint) writeErr(`  → ${err.hint}\n`);
    printFailure(jsonKind, errorJson(err));
    return err.exitCode;
  }
  const sys = hostFileSystemFault(err, cacheDir());
  if (sys) {
    writeErr(`reprorom: ${sys.message}\n  → ${sys.hint}\n`);
    if (process.env['REPRO_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    printFailure(jsonKind, outcomeError(ExitCode.environment, sys.message, sys.hint));
    return ExitCode.environment;
  }
  const message = err instanceof Error ? err.message : String(err);
  writeErr(`reprorom: internal error: ${message}\n`);
  if (process.env['REPRO_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  const hint = 'this is a bug in reprorom; set REPRO_DEBUG=1 for details and report it';
  writeErr(`  → ${hint}\n`);
  printFailure(jsonKind, { code: 'internal', exitCode: ExitCode.buildFailed, message, hint });
  return ExitCode.buildFailed;
}
