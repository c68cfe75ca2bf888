# reprorom's offline package set: Debian bookworm binary packages pinned by sha256
# in debs.lock.json. Nothing here downloads: `reprorom pin fetch offline` puts every
# .deb (and the bootstrap busybox) into the nix store as the exact fixed-output
# paths declared below, so nix finds them already valid and never runs their builders.
{
  description = "reprorom offline package set (Debian bookworm debs, locked in debs.lock.json)";

  outputs = { self }:
    let
      system = "x86_64-linux";
      lock = builtins.fromJSON (builtins.readFile ./debs.lock.json);
      hint = "is not in the nix store; run: reprorom pin fetch offline";

      # The bootstrap tool: <storeName>/bin/busybox, seeded by fetch with this NAR hash.
      # If it is missing, builtin:fetchurl fails on a URL that says what to do.
      busybox = derivation {
        name = lock.busybox.storeName;
        system = "builtin";
        builder = "builtin:fetchurl";
        url = "file:///reprorom-offline-not-seeded/run-reprorom-pin-fetch-offline";
        outputHashMode = "recursive";
        outputHashAlgo = "sha256";
        outputHash = lock.busybox.narHash;
      };
      bb = "${busybox}/bin/busybox";

      # One .deb: a flat fixed-output path (depends only on name + sha256).
      deb = name:
        let e = lock.debs.${name}; in
        derivation {
          name = e.storeName;
          inherit system;
          builder = bb;
          args = [ "sh" "-c" "echo 'error: ${name} ${e.version} (${e.storeName}) ${hint}' >&2; exit 1" ];
          outputHashMode = "flat";
          outputHashAlgo = "sha256";
          outputHash = e.sha256;
        };

      # Links Debian makes in maintainer scripts (alternatives, /bin/sh), not in package data.
      fhsLinks = [
        "usr/bin/sh=dash" "usr/bin/cc=gcc" "usr/bin/c89=c89-gcc" "usr/bin/c99=c99-gcc"
        "usr/bin/awk=gawk" "usr/bin/nawk=gawk" "usr/bin/yacc=bison.yacc" "usr/bin/lex=flex"
        "usr/bin/which=which.debianutils" "usr/bin/pager=less"
        "usr/bin/bash=bash-static"
      ];

      # One FHS tree (usr-merged, like a bookworm system) from a set's debs.
      # `locales`: compiled into usr/lib/locale with the tree's own localedef (as locale-gen would).
      treeWith = setName: locales:
        let set = lock.sets.${setName}; in
        derivation ({
          name = setName;
          inherit system;
          builder = bb;
          args = [ "sh" "-e" ./unpack.sh ];
          debs = map deb set.debs;
          links = fhsLinks;
        } // (if locales == [ ] then { } else { inherit locales; }));
      tree = setName: treeWith setName [ ];

      # An initrd's tree: a set (of any architecture: `arch` in the lock) unpacked as every tree is,
      # with a manifest of its packages and of the files the trimming rule left out; no links.
      # Trimmed: the folders unpack.sh removes from every tree (documentation, man pages, locales),
      # and glibc's gconv modules (iconv's converters: 7 MB, loaded by iconv_open only). Each entry
      # is an extended regular expression of a folder path; what it removes is in the manifest.
      initrdTree = setName:
        let set = lock.sets.${setName}; in
        derivation {
          name = setName;
          inherit system;
          builder = bb;
          args = [ "sh" "-e" ./initrd.sh ];
          unpack = ./unpack.sh;
          debs = map deb set.debs;
          entries = builtins.concatStringsSep "\n" (map (k:
            let e = lock.debs.${k}; in "package ${builtins.head (builtins.split ":" k)} ${e.version} ${e.arch} ${e.sha256}") set.debs);
          trim = [ "usr/share/doc" "usr/share/man" "usr/share/info" "usr/share/locale" "usr/share/lintian" "usr/share/bug"
                   "usr/lib/[^/]+/gconv" ];
        };
      # Every set whose name starts with "initrd-" is an initrd tree (an image lists it by that name).
      initrdTrees = builtins.listToAttrs (map (n: { name = n; value = initrdTree n; })
        (builtins.filter (n: builtins.substring 0 7 n == "initrd-") (builtins.attrNames lock.sets)));

      toolchain = tree "toolchain";
      # The firmware image's tree: the locale variation's locales (C.UTF-8 comes with libc-bin).
      toolchain-riscv64 = treeWith "toolchain-riscv64" [ "fr_CH.UTF-8" "en_US.UTF-8" ];
      # The coreboot image's tree: 32-bit libgcc and libc headers (gcc -m32) besides the host tools.
      toolchain-coreboot = treeWith "toolchain-coreboot" [ "fr_CH.UTF-8" "en_US.UTF-8" ];
      # The initrd image's tree: the aarch64 cross gcc and libc (static busybox) besides the host tools.
      toolchain-initrd = treeWith "toolchain-initrd" [ "fr_CH.UTF-8" "en_US.UTF-8" ];
      # The kernel image's tree: the initrd tree plus libelf-dev (x86 objtool includes gelf.h).
      toolchain-kernel = treeWith "toolchain-kernel" [ "fr_CH.UTF-8" "en_US.UTF-8" ];
      bash-static = tree "bash-static";

      # What `nix develop` sources ($stdenv/setup): PATH from the shell's packages.
      stdenv = derivation {
        name = "reprorom-offline-stdenv";
        inherit system;
        builder = bb;
        args = [ "sh" "-c" "mkdir $out && cp $setup $out/setup" ];
        setup = ./setup.sh;
      };

      # A devShell builder for this set (nixpkgs' mkShell needs nixpkgs' stdenv).
      mkShell = { name ? "reprorom-shell", packages ? [ ], env ? { }, shellHook ? "" }:
        derivation (env // {
          inherit name system stdenv shellHook packages;
          outputs = [ "out" ]; # get-env.sh writes the environment to each of $outputs
          # nix develop insists on a builder named bash: the static one, linked as usr/bin/bash.
          builder = "${bash-static}/usr/bin/bash";
          # Building it records the environment; nix develop replaces args with its get-env script.
          args = [ "-e" "-c" "source $stdenv/setup; export -p > $out" ];
        });

      # Names an image can list; the Debian tools all live in the toolchain tree.
      aliases = builtins.listToAttrs (map (n: { name = n; value = toolchain; }) [
        "bash" "coreutils" "gnumake" "gcc" "binutils" "python3" "gnused" "gnugrep" "gawk" "findutils"
        "diffutils" "gnutar" "xz" "gzip" "bzip2" "patch" "perl" "file" "bison" "flex" "bc" "m4"
        "pkg-config" "openssl" "dtc" "cpio" "xxd" "acpica-tools" "which"
      ]);
    in
    {
      packages.${system} = aliases // initrdTrees // {
        inherit toolchain toolchain-riscv64 toolchain-coreboot toolchain-initrd toolchain-kernel bash-static busybox stdenv;
        riscv64-cross = toolchain-riscv64;
        default = toolchain;
      };
      lib.${system} = { inherit mkShell; };
      devShells.${system} = {
        default = mkShell { name = "reprorom-offline"; packages = [ toolchain ]; };
        riscv64 = mkShell { name = "reprorom-offline-riscv64"; packages = [ toolchain-riscv64 ]; };
      };
    };
}
