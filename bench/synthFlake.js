// A local flake of N packages built by the host's /bin/sh: the same shape as
// test/helpers/syntheticFlake.ts (shared base, leaf packages referencing it, a
// busybox shell, a `lib.mkShell` nix develop accepts), plus an `all` package
// that references every package, so one `nix build --out-link` builds the whole
// set in parallel and keeps it from the garbage collector between bench runs.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * @param {{ packages: number, bytesPerPackage: number, filesPerPackage: number,
 *           bump?: { index: number, salt: string } }} o
 */
export function syntheticFlakeNix(o) {
  const files = o.filesPerPackage;
  const perFile = Math.max(1, Math.floor(o.bytesPerPackage / files));
  const names = Array.from({ length: o.packages }, (_, i) => `p${i}`);
  const pkg = (i) => {
    const salt = o.bump?.index === i ? o.bump.salt : '';
    // One `yes | head -c` per package, split into files by `split`: a few processes
    // per package instead of two per file keeps generating 2,000 packages quick.
    return `      p${i} = drv "p${i}" ''
        mkdir -p $out/share/p${i}/data && cd $out/share/p${i}/data
        yes "p${i}-${salt}-abcdefghijklmnopqrstuvwxyz0123456789" | head -c ${perFile * files} | split -b ${perFile} -a 3 -d - f
        echo ${'${base}'} > $out/share/p${i}/base-ref
      '';`;
  };
  return `{
  outputs = { self }:
    let
      system = "x86_64-linux";
      drv = name: script: derivation {
        inherit name system;
        builder = "/bin/sh";
        args = [ "-c" ("PATH=/usr/bin:/bin; " + script) ];
      };
      base = drv "base" ''mkdir -p $out/lib; yes base | head -c 4096 > $out/lib/base.so'';
      shell = drv "shell" ''mkdir -p $out/bin; cp /bin/busybox $out/bin/busybox; ln -s busybox $out/bin/sh; ln -s busybox $out/bin/env; ln -s busybox $out/bin/echo; ln -s busybox $out/bin/cat'';
      setup = drv "setup" ''mkdir -p $out; printf 'for p in $packages; do PATH="$PATH:$p/bin"; done; export PATH\\n' > $out/setup'';
      mkShell = { name, packages ? [ ], ... }: derivation {
        inherit name system packages;
        builder = "/bin/bash";
        stdenv = setup;
        outputs = [ "out" ];
        args = [ "-c" "echo > $out" ];
      };
      pkgs = {
        inherit base shell;
${names.map((_, i) => pkg(i)).join('\n')}
      };
      all = derivation {
        name = "all"; inherit system; builder = "/bin/sh";
        paths = [ pkgs.shell ${names.map((n) => `pkgs.${n}`).join(' ')} ];
        args = [ "-c" "echo $paths > $out" ];
      };
    in {
      packages.\${system} = pkgs // { inherit all; };
      lib.\${system} = { inherit mkShell; };
    };
}
`;
}

export async function writeSyntheticFlake(dir, o) {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'flake.nix'), syntheticFlakeNix(o));
  await writeFile(join(dir, 'flake.lock'), `${JSON.stringify({ nodes: { root: {} }, root: 'root', version: 7 }, null, 2)}\n`);
}

/** A workspace whose pin is the flake in `<ws>/pins/synth` and whose image `synth` holds every package. */
export async function writeSynthWorkspace(ws, o) {
  await writeSyntheticFlake(join(ws, 'pins', 'synth'), o);
  await writeFile(
    join(ws, 'pins', 'synth.yaml'),
    'flake: path:./pins/synth\npackageSet: packages\nnarHash: sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n',
  );
  await mkdir(join(ws, 'images'), { recursive: true });
  await mkdir(join(ws, 'boards'), { recursive: true });
  const packages = ['shell', ...Array.from({ length: o.packages }, (_, i) => `p${i}`)];
  await writeFile(join(ws, 'images', 'synth.yaml'), `pin: synth\npackages: [${packages.join(', ')}]\n`);
}
