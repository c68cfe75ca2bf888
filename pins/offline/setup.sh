# stdenv/setup of reprorom's offline set, sourced by `nix develop` / `nix print-dev-env`.
# PATH is made only from the shell's packages: bin, usr/bin, sbin, usr/sbin of each
# (a folder that is a link, like a usr-merged /bin, is skipped: its target is listed).
PATH=
for p in $packages; do
  for d in bin usr/bin sbin usr/sbin; do
    if [ -d "$p/$d" ] && [ ! -L "$p/$d" ]; then PATH="${PATH:+$PATH:}$p/$d"; fi
  done
done
export PATH
