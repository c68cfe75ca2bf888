/** The pin and image command groups: pinned package sets and the images built from them. */
import type { Command } from 'commander';
import { workspaceOption } from './options.js';

/** pin lock, pin verify, pin fetch. */
export function registerPinCommands(program: Command): void {
  const pin = program.command('pin').description('lock, verify and fetch pinned package sets');
  pin
    .command('lock <name>')
    .description('compute the narHash of a pin (resolving --ref to a commit first) and write it')
    .addOption(workspaceOption())
    .option('--ref <flakeref>', 'new flake reference, e.g. github:NixOS/nixpkgs/nixos-unstable')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { workspace: string; ref?: string; json?: boolean }) => {
      const { runPinLock } = await import('../commands/pinLock.js');
      process.exitCode = await runPinLock(name, opts);
    });
  pin
    .command('verify [name]')
    .description('re-hash pins and refuse any whose content no longer matches')
    .addOption(workspaceOption())
    .option('--json', 'machine-readable output')
    .action(async (name: string | undefined, opts: { workspace: string; json?: boolean }) => {
      const { runPinVerify } = await import('../commands/pinLock.js');
      process.exitCode = await runPinVerify(name, opts);
    });
  pin
    .command('fetch <name>')
    .description('download and verify the Debian packages of an offline package set, and seed the nix store')
    .addOption(workspaceOption())
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { workspace: string; json?: boolean }) => {
      const { runPinFetch } = await import('../commands/pin.js');
      process.exitCode = await runPinFetch(name, opts);
    });
}

/** image build. */
export function registerImageCommands(program: Command): void {
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
    .action(async (name: string, opts: import('../commands/imageBuild.js').ImageBuildCliOptions) => {
      const { runImageBuild } = await import('../commands/imageBuild.js');
      process.exitCode = await runImageBuild(name, opts);
    });
}
