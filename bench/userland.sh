#!/bin/sh
# bench/userland.sh: cold and no-op times of the mini2440 userland build
# (bootrig's musl sysroot + busybox against it: 'bootrig build rootfs',
# no kernel), each against the anchor measured in the same run: the same
# commands by hand (musl's configure, make, make install; the kernel's
# headers_install; busybox's oldconfig and make with the same CC), in
# directories of their own.
#
#   bench/userland.sh            # BOARD=mini2440; a few minutes on 2 idle cores
#
# The cold run uses a fresh BOOTRIG_CACHE ('apt-get source musl' and
# 'apt-get source busybox' included) holding a link to the kernel tree
# already unpacked in the user's cache, as bootrig unpacked it from
# /usr/src/linux-source-*.tar.xz (unpacking it is not what is compared).
set -eu
BOARD=${BOARD:-mini2440}
CROSS=${CROSS:-arm-linux-gnueabi-}
JOBS=$(nproc)
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/bootrig-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
go build -o "$WORK/bootrig" ./cmd/bootrig

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
ratio() { echo "scale=4; $1 / $2" | bc | sed 's/^\./0./'; }

KSRC=$(ls -d "${BOOTRIG_CACHE:-$HOME/.cache/bootrig}"/src/linux-source-*/ | head -1)
KSRC=${KSRC%/}
CACHE=$WORK/cache
mkdir -p "$CACHE/src"
ln -s "$KSRC" "$CACHE/src/$(basename "$KSRC")"
cp "$KSRC.unpacked" "$CACHE/src/"
build() { BOOTRIG_CACHE=$CACHE "$WORK/bootrig" build rootfs --board "$BOARD" --out "$WORK/out"; }
t=$(now)
build >"$WORK/cold.txt" 2>&1 || { cat "$WORK/cold.txt"; exit 1; }
bootrig_cold=$(since "$t")
t=$(now)
build >"$WORK/noop.txt" 2>&1
bootrig_noop=$(since "$t")

MSRC=$(ls -d "$CACHE"/src/musl-apt/musl-*/ | head -1)
BSRC=$(ls -d "$CACHE"/src/busybox-apt/busybox-*/ | head -1)
SYS=$CACHE/$BOARD/sysroot
FLAGS="-march=armv4t -marm -mfloat-abi=soft"
MINE=$WORK/sysroot
mkdir -p "$WORK/am" "$WORK/ah" "$WORK/ab" "$MINE"
sed "s|$SYS|$MINE|g" "$SYS/bootrig-gcc.specs" >"$WORK/specs"
cp "$CACHE/$BOARD/busybox-build/.config" "$WORK/ab/.config"
CC="${CROSS}gcc $FLAGS -specs=$MINE/bootrig-gcc.specs -static -no-pie -fno-pie"
busybox() { make -s -C "$BSRC" O="$WORK/ab" ARCH=arm CROSS_COMPILE="$CROSS" CC="$CC" -j"$JOBS" busybox >/dev/null 2>&1; }
t=$(now)
(cd "$WORK/am" && "$MSRC/configure" --target=arm-linux-gnueabi CROSS_COMPILE="$CROSS" CC="${CROSS}gcc" CFLAGS="$FLAGS" \
	--prefix=/ --disable-shared >/dev/null && make -s -j"$JOBS" >/dev/null 2>&1 && make -s install DESTDIR="$MINE" >/dev/null)
make -s -C "$KSRC" O="$WORK/ah" ARCH=arm headers_install INSTALL_HDR_PATH="$MINE" >/dev/null
cp "$WORK/specs" "$MINE/bootrig-gcc.specs"
yes "" | make -s -C "$BSRC" O="$WORK/ab" ARCH=arm CROSS_COMPILE="$CROSS" CC="$CC" oldconfig >/dev/null
busybox
anchor_cold=$(since "$t")
t=$(now)
make -s -C "$WORK/am" >/dev/null
busybox
anchor_noop=$(since "$t")

echo "board $BOARD, $JOBS CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'cold musl+busybox: bootrig %6.1fs  by hand %6.1fs  ratio %s\n' "$bootrig_cold" "$anchor_cold" "$(ratio "$bootrig_cold" "$anchor_cold")"
printf 'no-op rebuild:     bootrig %6.2fs  make    %6.2fs  ratio %s\n' "$bootrig_noop" "$anchor_noop" "$(ratio "$bootrig_noop" "$anchor_noop")"
