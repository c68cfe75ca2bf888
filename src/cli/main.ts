/**
 * Entry point: parses argv and lazily imports the one command module it needs,
 * so `reprorom --version` stays fast. Every error ends here, as one message and an exit code.
 */
import { Command, CommanderError } from 'commander';
import type { JsonKind } from '../contracts/json.js';
import { ExitCode, hostFileSystemFault, ReproromError } from '../util/errors.js';
import { interruptForClosedPipe } from '../util/interrupt.js';
import { cacheDir } from '../util/paths.js';
import { toolVersion } from '../util/version.js';
import { errorJson, jsonKindOf, outcomeError, printFailure, writeErr } from './output.js';
import { registerBuildCommands } from './program/build.js';
import { registerCiCommands } from './program/ci.js';
import { registerImageCommands, registerPinCommands } from './program/pinImage.js';
import { registerReleaseCommands, registerVerifyCommands } from './program/release.js';
import { registerCompareCommand, registerRunFolderCommands } from './program/results.js';
import { registerSchemasCommand, registerWorkspaceCommands } from './program/workspace.js';

/** The whole command tree; each group is registered from src/cli/program/, in the order help lists them. */
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

  registerWorkspaceCommands(program);
  registerPinCommands(program);
  registerImageCommands(program);
  registerBuildCommands(program);
  registerCompareCommand(program);
  registerReleaseCommands(program);
  registerVerifyCommands(program);
  registerRunFolderCommands(program);
  registerCiCommands(program);
  registerSchemasCommand(program);

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
