# pack.sh SET INIT: the initrd of a package-list set, packed as Heads packs its initrd.
#   SET   an offline set named initrd-* (pins/offline/debs.lock.json), in the board's image as
#         /nix/store/<hash>-SET/{root,manifest}: its packages unpacked into one tree, checked
#         at image build time that every program finds its loader and libraries in it
#   INIT  the board's own /init
# Writes initrd.cpio.gz and initrd.manifest (the set's packages and the files left out).
# Everything is made under initrd.tmp/ and renamed at the end: a stopped run leaves no
# half-made initrd behind under the artifact's name.
set -eu
set_name=$1 init=$2
trees=$(ls -d /nix/store/*-"$set_name" 2>/dev/null || true)
[ "$(echo "$trees" | wc -w)" = 1 ] && [ -d "$trees/root" ] || {
  echo "pack.sh: the image has no single initrd tree $set_name (found: ${trees:-none}); list it in the image's packages" >&2
  exit 1
}
rm -rf initrd.tmp && mkdir -p initrd.tmp
cp -a "$trees/root" initrd.tmp/root
chmod -R u+w initrd.tmp/root
mkdir -p initrd.tmp/root/dev initrd.tmp/root/proc initrd.tmp/root/sys
# busybox-static ships one binary; /init's shell and applets are links to it (as its postinst would make).
for applet in sh mount poweroff; do
  [ -e "initrd.tmp/root/usr/bin/$applet" ] || ln -s busybox "initrd.tmp/root/usr/bin/$applet"
done
cp "$init" initrd.tmp/root/init
# Normalised like Heads' cpio-clean: modes set (0755 folders and programs, 0644 other files),
# entries sorted (C locale), owner 0:0, inodes numbered in archive order; then every header's
# mtime is written as SOURCE_DATE_EPOCH (stat() is not trusted: libfaketime shifts it).
find initrd.tmp/root -type d -exec chmod 0755 {} +
find initrd.tmp/root -type f -perm -u+x -exec chmod 0755 {} +
find initrd.tmp/root -type f ! -perm -u+x -exec chmod 0644 {} +
chmod 0755 initrd.tmp/root/init
(cd initrd.tmp/root && find . -print0 | LC_ALL=C sort -z |
  cpio --create --null --format=newc --owner=0:0 --reproducible --quiet) > initrd.tmp/initrd.cpio
python3 - initrd.tmp/initrd.cpio "$SOURCE_DATE_EPOCH" <<'PY'
import sys
path, mtime = sys.argv[1], b'%08X' % int(sys.argv[2])
cpio = bytearray(open(path, 'rb').read())
at = 0
while True:
    assert cpio[at:at + 6] == b'070701', f'no newc header at {at}'
    names, size = int(cpio[at + 94:at + 102], 16), int(cpio[at + 54:at + 62], 16)
    if cpio[at + 110:at + 109 + names] == b'TRAILER!!!':
        break
    cpio[at + 46:at + 54] = mtime
    at = (at + 110 + names + 3) & ~3
    at = (at + size + 3) & ~3
open(path, 'wb').write(cpio)
PY
gzip -n -9 < initrd.tmp/initrd.cpio > initrd.tmp/initrd.cpio.gz
cp "$trees/manifest" initrd.tmp/initrd.manifest
mv initrd.tmp/initrd.manifest initrd.manifest
mv initrd.tmp/initrd.cpio.gz initrd.cpio.gz
rm -rf initrd.tmp
