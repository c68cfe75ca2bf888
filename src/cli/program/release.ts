/** The release commands: release, sign, attest and verify. */
import type { Command } from 'commander';
import { collect, noVaryOption, workspaceOption } from './options.js';

/** release and sign. */
export function registerReleaseCommands(program: Command): void {
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
    .action(async (boards: string[], opts: import('../commands/release.js').ReleaseCliOptions) => {
      const { runRelease } = await import('../commands/release.js');
      process.exitCode = await runRelease(boards, opts);
    });

  program
    .command('sign <dir>')
    .description("sign a release folder's manifests (OpenSSH or OpenPGP detached signatures)")
    .requiredOption('--key <key>', 'OpenSSH private key file, or a GnuPG key id / fingerprint')
    .option('--format <format>', 'ssh or gpg (default: guessed from the key)')
    .option('--json', 'machine-readable output')
    .action(async (dir: string, opts: { key: string; format?: string; json?: boolean }) => {
      const { runSign } = await import('../commands/sign.js');
      process.exitCode = await runSign(dir, opts);
    });
}

/** attest and verify. */
export function registerVerifyCommands(program: Command): void {
  program
    .command('attest <release>')
    .description(
      "sign an independent rebuilder's attestation of a release's ROMs (in-toto statement in a DSSE envelope)",
    )
    .option(
      '--rebuilt <dir>',
      'the rebuilt ROMs, as BOARD/PATH like the release (e.g. a rebuilt release folder)',
    )
    .option(
      '--run <dir...>',
      "or: `build --runs N` run folders (or board-run folders) of the release's boards; a board's runs must agree",
    )
    .requiredOption('--key <file>', "the rebuilder's OpenSSH ed25519 private key file")
    .requiredOption('--builder-id <id>', 'the name this rebuilder goes by in trust files')
    .requiredOption('--out <file>', 'where to write the .intoto.jsonl envelope')
    .option('--variation <name...>', 'build variations the rebuild used')
    .action(async (release: string, opts: import('../commands/attest.js').AttestCliOptions) => {
      const { runAttest } = await import('../commands/attest.js');
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
    .action(async (release: string, opts: import('../commands/verify.js').VerifyCliOptions) => {
      const { runVerify } = await import('../commands/verify.js');
      process.exitCode = await runVerify(release, opts);
    });
}
