#!/bin/sh
# One file per thing a build can observe that reprorom varies between runs
# (boards/probe-variations.yaml). Each file depends on one variation only.
set -e
mkdir -p out
date -u +%Y-%m-%d > out/time.txt                        # time: the clock (libfaketime)
uname -r > out/kernel.txt                               # kernel: setarch --uname-2.6
echo $(( 0x$(cat /proc/self/personality) & 0x0040000 )) > out/aslr.txt  # aslr: setarch -R (ADDR_NO_RANDOMIZE)
{ nproc; echo "$MAKEFLAGS"; } > out/num-cpus.txt        # num-cpus: cpuset, make -j follows
{ ls -U tree; find tree -type f; python3 -c 'import os; print(os.listdir("tree"))'; } > out/fileordering.txt
{ uname -n; cat /proc/sys/kernel/domainname; } > out/domain-host.txt
{ id -u; id -g; } > out/user-group.txt
umask > out/umask.txt
date -d @0 +%H%z > out/timezone.txt                     # timezone: TZ
{ printf 'b\nA\na\nB\n' | sort; TZ=UTC date -d @0 +%A; } > out/locales.txt
pwd > out/build-path.txt                                # build-path: opt-in (--vary build-path)
