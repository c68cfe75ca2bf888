# Builder of one FHS tree, run by the bootstrap busybox (`busybox sh -e unpack.sh`).
# Input: $debs (store paths of .deb files), $links ("path=target" pairs). Output: $out.
# Deterministic: fixed order (the lock's), nix resets mtimes and owners in the store.
export PATH="$TMPDIR/bin"
mkdir -p "$TMPDIR/bin"
"$builder" --install -s "$TMPDIR/bin"
mkdir -p "$out"
for d in $debs; do
  rm -rf "$TMPDIR/x" && mkdir "$TMPDIR/x" && cd "$TMPDIR/x"
  ar x "$d"
  case "$(echo data.tar.*)" in
    data.tar.xz) tar -xJof data.tar.xz -C "$out" ;;
    data.tar.gz) tar -xzof data.tar.gz -C "$out" ;;
    data.tar.bz2) tar -xjof data.tar.bz2 -C "$out" ;;
    data.tar) tar -xof data.tar -C "$out" ;;
    *) echo "error: $d: unsupported data member $(echo data.tar*)" >&2; exit 1 ;;
  esac
done
cd "$out"
# Documentation is not needed to build firmware and is a third of the size.
rm -rf usr/share/doc usr/share/man usr/share/info usr/share/locale usr/share/lintian usr/share/bug
# usr-merge, as every bookworm system is: /bin -> usr/bin and so on.
for d in bin sbin lib lib64; do
  if [ -d "$d" ] && [ ! -L "$d" ]; then
    mkdir -p "usr/$d"
    cp -a "$d/." "usr/$d/"
    rm -rf "$d"
  fi
  if [ -d "usr/$d" ] && [ ! -e "$d" ]; then ln -s "usr/$d" "$d"; fi
done
for l in $links; do
  path="${l%%=*}"; target="${l#*=}"
  if [ -e "$(dirname "$path")/$target" ] && [ ! -e "$path" ] && [ ! -L "$path" ]; then ln -s "$target" "$path"; fi
done
# Compiled locales ("fr_CH.UTF-8" → usr/lib/locale/fr_CH.utf8), by the tree's own localedef and
# loader, from the tree's i18n sources; the sources are dropped afterwards.
if [ -n "${locales:-}" ]; then
  ld=$(echo "$out"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)
  for l in $locales; do
    name="${l%%.*}"; charset="${l#*.}"
    dir="$out/usr/lib/locale/$name.$(echo "$charset" | tr 'A-Z' 'a-z' | tr -d -)"
    mkdir -p "$TMPDIR/charmaps"
    gunzip -c "$out/usr/share/i18n/charmaps/$charset.gz" > "$TMPDIR/charmaps/$charset"
    I18NPATH="$out/usr/share/i18n" "$ld" --library-path "$out/usr/lib/x86_64-linux-gnu" \
      "$out/usr/bin/localedef" -c -i "$name" -f "$TMPDIR/charmaps/$charset" "$dir" || [ -f "$dir/LC_CTYPE" ]
    [ -f "$dir/LC_COLLATE" ] || { echo "error: localedef did not compile $l" >&2; exit 1; }
  done
  rm -rf "$out/usr/share/i18n/locales"
fi
