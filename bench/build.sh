#!/bin/sh
# bench/build.sh: cold and no-op times of 'bootrig build' for a board, each
# against the anchor measured in the same run: the same kbuild commands run
# by hand (make O= with the very .config bootrig resolved), as someone
# would without bootrig. Cold: olddefconfig + make in empty build
# directories; no-op: make over the finished trees (make's own up-to-date
# walk, which bootrig's input stamp skips).
#
#   bench/build.sh                # BOARD=qemu-arm; about 10 minutes on 2 idle cores
#   BOARD=mini2440 bench/build.sh
#   NOCOLD=1 bench/build.sh       # no-op times only, against the user's cache
#
# The cold run uses a fresh BOOTRIG_CACHE in a temporary directory: it
# unpacks /usr/src/linux-source-*.tar.xz, runs 'apt-get source busybox' and
# builds everything from scratch. The anchor reuses those unpacked sources
# (unpacking is not what is compared) and builds in directories of its own.
set -eu
BOARD=${BOARD:-qemu-arm}
CROSS=${CROSS:-arm-linux-gnueabi-}
JOBS=$(nproc)
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/bootrig-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
go build -o "$WORK/bootrig" ./cmd/bootrig

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
ratio() { echo "scale=4; $1 / $2" | bc | sed 's/^\./0./'; }

if [ -n "${NOCOLD:-}" ]; then
	CACHE=${BOOTRIG_CACHE:-$HOME/.cache/bootrig}
	BOOTRIG_CACHE=$CACHE "$WORK/bootrig" build --board "$BOARD" --out "$WORK/out" >/dev/null 2>&1
else
	CACHE=$WORK/cache
	t=$(now)
	BOOTRIG_CACHE=$CACHE "$WORK/bootrig" build --board "$BOARD" --out "$WORK/out" >"$WORK/cold.txt" 2>&1 ||
		{ cat "$WORK/cold.txt"; exit 1; }
	bootrig_cold=$(since "$t")
fi

t=$(now)
BOOTRIG_CACHE=$CACHE "$WORK/bootrig" build --board "$BOARD" --out "$WORK/out" >/dev/null 2>&1
bootrig_noop=$(since "$t")

KSRC=$(ls -d "$CACHE"/src/linux-source-*/ | head -1)
BSRC=$(ls -d "$CACHE"/src/busybox-apt/busybox-*/ | head -1)
KCONF=$CACHE/$BOARD/kernel-build/.config
BCONF=$CACHE/$BOARD/busybox-build/.config
configure() { # $1 = kernel build dir, $2 = busybox build dir
	make -s -C "$KSRC" O="$1" ARCH=arm CROSS_COMPILE="$CROSS" olddefconfig >/dev/null
	yes "" | make -s -C "$BSRC" O="$2" ARCH=arm CROSS_COMPILE="$CROSS" oldconfig >/dev/null
}
compile() {
	make -s -C "$KSRC" O="$1" ARCH=arm CROSS_COMPILE="$CROSS" -j"$JOBS" zImage >/dev/null
	make -s -C "$BSRC" O="$2" ARCH=arm CROSS_COMPILE="$CROSS" -j"$JOBS" busybox >/dev/null 2>&1
}
if [ -z "${NOCOLD:-}" ]; then
	mkdir -p "$WORK/ak" "$WORK/ab"
	cp "$KCONF" "$WORK/ak/.config"
	cp "$BCONF" "$WORK/ab/.config"
	t=$(now)
	configure "$WORK/ak" "$WORK/ab"
	compile "$WORK/ak" "$WORK/ab"
	anchor_cold=$(since "$t")
	AK=$WORK/ak AB=$WORK/ab
else
	AK=$CACHE/$BOARD/kernel-build AB=$CACHE/$BOARD/busybox-build
fi
t=$(now)
compile "$AK" "$AB"
anchor_noop=$(since "$t")

echo "board $BOARD, $JOBS CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -z "${NOCOLD:-}" ]; then
	mine=$CACHE/$BOARD/kernel-build/arch/arm/boot/zImage
	theirs=${BOOTRIG_CACHE:-$HOME/.cache/bootrig}/$BOARD/kernel-build/arch/arm/boot/zImage
	if [ -f "$theirs" ]; then
		if cmp -s "$mine" "$theirs"; then same=identical; else same=DIFFERENT; fi
		echo "reproducible: the cold build's zImage and $theirs are $same"
	fi
	sed -n 's/^\(.*: compile: [0-9]* objects in .*\)$/  bootrig cold \1/p' "$WORK/cold.txt"
	printf 'cold  bootrig %7.1f s   make by hand %7.1f s   ratio %s\n' "$bootrig_cold" "$anchor_cold" "$(ratio "$bootrig_cold" "$anchor_cold")"
fi
printf 'no-op bootrig %7.2f s   make by hand %7.2f s   ratio %s\n' "$bootrig_noop" "$anchor_noop" "$(ratio "$bootrig_noop" "$anchor_noop")"
