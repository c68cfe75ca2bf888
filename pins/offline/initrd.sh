# Builder of one initrd tree from a set's debs, run by the bootstrap busybox (`busybox sh -e initrd.sh`).
# Input: $debs (store paths of .deb files, the lock's order), $entries (one "package NAME VERSION
# ARCH SHA256" line each), $trim (folders left out by rule: extended regular expressions of
# paths, e.g. usr/lib/[^/]+/gconv), $unpack (unpack.sh). Output:
#   $out/root      the packages unpacked into one usr-merged tree (unpack.sh, as every offline tree)
#   $out/manifest  what made it: one "package" line per deb, one "trimmed" line per file left out
# Nothing else: the tree holds no store path, so an image carries it as a leaf of its closure.
export PATH="$TMPDIR/initrd-bin"
mkdir -p "$TMPDIR/initrd-bin"
"$builder" --install -s "$TMPDIR/initrd-bin"
mkdir -p "$out"
# The files the trimming rule leaves out, read from the packages themselves (unpack.sh removes them).
: > "$TMPDIR/trimmed"
for d in $debs; do
  rm -rf "$TMPDIR/list" && mkdir "$TMPDIR/list" && cd "$TMPDIR/list"
  ar x "$d"
  for member in data.tar*; do
    case "$member" in
      data.tar.xz) unxz -c "$member" ;;
      data.tar.gz) gunzip -c "$member" ;;
      data.tar.bz2) bunzip2 -c "$member" ;;
      *) cat "$member" ;;
    esac | tar -t >> "$TMPDIR/all"
  done
done
for t in $trim; do
  sed -e 's|^\./||' "$TMPDIR/all" | grep -E "^$t/" | grep -v '/$' >> "$TMPDIR/trimmed" || true
done
out="$out/root" "$builder" sh -e "$unpack"
cd "$out/root"
# unpack.sh trims documentation by its own rule; what it leaves of the rule (gconv modules:
# iconv's converters, loaded only by iconv_open, never by a program's DT_NEEDED) goes here.
for t in $trim; do
  find . ! -type d | sed -e 's|^\./||' | grep -E "^$t/" | while read -r f; do rm -f "$f"; done
  find . -depth -type d | sed -e 's|^\./||' | grep -E "^$t(/|\$)" | while read -r d; do rmdir "$d"; done
done
# The manifest must list every file that is gone and nothing the tree still has, so check.
for t in $trim; do
  left=$(find . | sed -e 's|^\./||' | grep -E "^$t(/|\$)" | head -n 1)
  if [ -n "$left" ]; then echo "error: $left is still in the tree after trimming" >&2; exit 1; fi
done
{
  echo "# reprorom initrd tree $name: packages (name version arch sha256), then the files left out by rule"
  printf '%s\n' "$entries"
  LC_ALL=C sort -u "$TMPDIR/trimmed" | sed -e 's|^|trimmed |'
} > "$out/manifest"
