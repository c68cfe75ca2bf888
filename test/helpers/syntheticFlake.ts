/**
 * A small local flake with N packages built by the host's /bin/sh, for tests and
 * benchmarks that need a closure of known shape: a shared base, leaf packages
 * that reference it, a busybox shell, and a `lib.mkShell` that `nix develop` accepts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SyntheticOptions {
  packages: number;
  /** Bytes of data in each package (pseudo-random, from the package's name). */
  bytesPerPackage?: number;
  /** Files per package. */
  filesPerPackage?: number;
  /** Text mixed into one package's content, to make a "new version" of it. */
  bump?: { index: number; salt: string };
}

export function syntheticFlakeNix(o: SyntheticOptions): string {
  const files = o.filesPerPackage ?? 1;
  const bytes = o.bytesPerPackage ?? 1024;
  const perFile = Math.max(1, Math.floor(bytes / files));
  const pkg = (i: number) => {
    const salt = o.bump?.index === i ? o.bump.salt : '';
    // head -c of a deterministic stream: urandom would make the build non-reproducible.
    return `      p${i} = drv "p${i}" ''
        mkdir -p $out/share/p${i}
        i=0
        while [ $i -lt ${files} ]; do
          yes "p${i}-$i-${salt}" | head -c ${perFile} > $out/share/p${i}/f$i
          i=$((i+1))
        done
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
${Array.from({ length: o.packages }, (_, i) => pkg(i)).join('\n')}
      };
    in {
      packages.\${system} = pkgs;
      lib.\${system} = { inherit mkShell; };
    };
}
`;
}

export async function writeSyntheticFlake(dir: string, o: SyntheticOptions): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'flake.nix'), syntheticFlakeNix(o));
  await writeFile(
    join(dir, 'flake.lock'),
    `${JSON.stringify({ nodes: { root: {} }, root: 'root', version: 7 }, null, 2)}\n`,
  );
}
