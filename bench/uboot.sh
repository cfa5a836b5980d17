#!/bin/bash
# The U-Boot bootrig builds (issue 13's benchmarks):
#  1. bootrig build uboot --board qemu-arm, cold (a fresh cache: apt-get
#     source u-boot, defconfig, fragment, olddefconfig, compile) and with
#     nothing changed, each against the same make commands run by hand on
#     the .config bootrig resolved (the anchor), as ratios; and whether the
#     cold image is byte-identical to the one in the user's cache.
#  2. saveenv under emulation, before and after the qemu-arm fragment:
#     "before" is qemu_arm_defconfig with only buffered writes off (what
#     saveenv needs to work on Debian 12's QEMU at all: 256 KiB environment,
#     the bank probed as 16 bits wide), "after" the shipped profile. Each
#     is `bootrig uboot env set --save` minus the same set without --save.
#  3. vexpress-a9 power-on to shell: `bootrig up --board vexpress-a9 --run
#     true`, the shell phase (seconds since power-on) and the wall time.
#
# Needs the qemu-arm and vexpress-a9 builds in the cache for 2 and 3
# (bootrig build --board qemu-arm; --board vexpress-a9) and root (the lab).
# Usage: bench/uboot.sh           (from the repository root)
#        SKIP_COLD=1 SKIP_SAVEENV=1 SKIP_VEXPRESS=1 bench/uboot.sh   (parts left out)
set -euo pipefail
CROSS=${CROSS:-arm-linux-gnueabi-}
JOBS=$(nproc)
CACHE=${BOOTRIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrig}
work=$(mktemp -d /tmp/bench-uboot.XXXXXX)
cleanup() {
	[ -n "${qemu:-}" ] && kill "$qemu" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/bootrig" ./cmd/bootrig
br=$work/bootrig
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
ratio() { echo "scale=3; $1 / $2" | bc | sed 's/^\./0./'; }
echo "$JOBS CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. Builds.
if [ -z "${SKIP_COLD:-}" ]; then
	cold=$work/cache
	t=$(now)
	BOOTRIG_CACHE=$cold $br build uboot --board qemu-arm >"$work/cold.txt" 2>&1 || { cat "$work/cold.txt"; exit 1; }
	b_cold=$(since "$t")
	t=$(now)
	BOOTRIG_CACHE=$cold $br build uboot --board qemu-arm >/dev/null 2>&1
	b_noop=$(since "$t")
	src=$(ls -d "$cold"/src/u-boot-apt/u-boot-*/ | head -1)
	mkdir "$work/anchor"
	cp "$cold/qemu-arm/u-boot-build/.config" "$work/anchor/.config"
	t=$(now)
	SOURCE_DATE_EPOCH=1767225600 make -s -C "$src" O="$work/anchor" CROSS_COMPILE="$CROSS" olddefconfig >/dev/null
	SOURCE_DATE_EPOCH=1767225600 make -s -C "$src" O="$work/anchor" CROSS_COMPILE="$CROSS" -j"$JOBS" u-boot.bin >/dev/null 2>&1
	a_cold=$(since "$t")
	t=$(now)
	SOURCE_DATE_EPOCH=1767225600 make -s -C "$src" O="$work/anchor" CROSS_COMPILE="$CROSS" -j"$JOBS" u-boot.bin >/dev/null 2>&1
	a_noop=$(since "$t")
	echo "u-boot build cold:  bootrig ${b_cold}s (apt-get source included), make by hand ${a_cold}s, ratio $(ratio "$b_cold" "$a_cold")"
	echo "u-boot build no-op: bootrig ${b_noop}s, make by hand ${a_noop}s, ratio $(ratio "$b_noop" "$a_noop")"
	if [ -f "$CACHE/qemu-arm/out/u-boot.bin" ]; then
		if cmp -s "$cold/qemu-arm/out/u-boot.bin" "$CACHE/qemu-arm/out/u-boot.bin"; then same=identical; else same=DIFFERENT; fi
		echo "reproducible: the cold u-boot.bin and $CACHE/qemu-arm/out/u-boot.bin are $same"
	fi
fi

# 2. saveenv before and after.
if [ -z "${SKIP_SAVEENV:-}" ]; then
profile() { # the shipped qemu-arm profile with the fragment "before"
	$br boards show qemu-arm | awk '
		/^ *fragment: \|/ && inbuild {print; print "      # CONFIG_SYS_FLASH_USE_BUFFER_WRITE is not set"; skip=1; next}
		skip && /^      / {next}
		{skip=0}
		/^  build:/ {inbuild=1}
		/^[a-z]/ {inbuild=0}
		{sub(/env_size: 8K/, "env_size: 256K"); sub(/name: qemu-arm$/, "name: qemu-arm-before"); print}'
}
profile >"$work/qemu-arm-before.yaml"
BOOTRIG_CACHE=$CACHE $br build uboot --board-file "$work/qemu-arm-before.yaml" >/dev/null 2>&1
saveenv() { # $1 = u-boot.bin; prints the seconds saveenv took
	rm -f "$work/flash1.img"
	truncate -s 64M "$work/flash1.img" && tr '\0' '\377' <"$work/flash1.img" >"$work/f" && mv "$work/f" "$work/flash1.img"
	qemu-system-arm -M virt -cpu cortex-a15 -m 128M -bios "$1" -display none -monitor none -nic none \
		-chardev pty,id=ser0 -serial chardev:ser0 -drive if=pflash,format=raw,unit=1,file="$work/flash1.img" \
		>"$work/qemu.out" 2>&1 &
	qemu=$!
	until grep -q 'char device redirected to' "$work/qemu.out"; do sleep 0.1; done
	pty=$(sed -n 's/.*redirected to \(\/dev\/[^ ]*\).*/\1/p' "$work/qemu.out")
	t=$(now)
	$br uboot env set --port "$pty" bench=1 >/dev/null
	plain=$(since "$t")
	t=$(now)
	$br uboot env set --port "$pty" --save bench=2 >/dev/null
	saved=$(since "$t")
	kill "$qemu"; wait "$qemu" 2>/dev/null || true; qemu=
	echo "$saved - $plain" | bc
}
before=$(saveenv "$CACHE/qemu-arm-before/out/u-boot.bin")
after=$(saveenv "$CACHE/qemu-arm/out/u-boot.bin")
echo "saveenv under emulation: before ${before}s (buffered writes off only), after ${after}s (qemu-arm fragment), ratio $(ratio "$before" "$after")"
fi

# 3. vexpress-a9.
[ -n "${SKIP_VEXPRESS:-}" ] && exit 0
t=$(now)
$br up --board vexpress-a9 --state "$work/vx" --run true 2>"$work/vx.err" >/dev/null || { cat "$work/vx.err"; exit 1; }
wall=$(since "$t")
shell=$(awk '/^shell / {n=split($0,f,/ +/); print f[n-1]}' "$work/vx.err")
echo "vexpress-a9 power-on to shell: ${shell} after power-on, bootrig up --run true ${wall}s wall"
