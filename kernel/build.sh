#!/bin/sh
# Build Linux 6.1 from Debian's linux-source-6.1 package (placed at linux-source.deb by the
# board's input). Used by the linux-qemu-* boards:
#   sh kernel/build.sh ARCH TARGET [FRAGMENT]
# ARCH is the kernel's (x86_64, arm64), TARGET the make target (bzImage, Image), FRAGMENT a
# file of `scripts/config` arguments (one symbol per line) applied to tinyconfig.
# The KBUILD_BUILD_* variables come from the board's commands (the naive board leaves them out).
set -eu
arch=$1 target=$2 fragment=$3
# The kernel tree: data.tar.xz out of the .deb (ar + tar: no dpkg in the image), then the
# tarball inside it, into linux/.
ar x linux-source.deb data.tar.xz
tar -xJf data.tar.xz ./usr/src/linux-source-6.1.tar.xz
rm -f data.tar.xz linux-source.deb
mkdir -p linux
tar -xJf usr/src/linux-source-6.1.tar.xz -C linux --strip-components=1
rm -rf usr
cd linux
make ARCH="$arch" tinyconfig
# shellcheck disable=SC2046 # one scripts/config argument pair per symbol
./scripts/config $(sed -e 's/#.*//' -e '/^$/d' -e 's/^/-e /' "../$fragment")
make ARCH="$arch" olddefconfig
# Every symbol asked for must have survived olddefconfig (a missing dependency drops it silently).
for symbol in $(sed -e 's/#.*//' -e '/^$/d' "../$fragment"); do
  grep -qx "CONFIG_${symbol}=y" .config || { echo "CONFIG_${symbol} is not set after olddefconfig" >&2; exit 1; }
done
make ARCH="$arch" -j"$(nproc)" "$target"
