#!/bin/bash
# The U-Boot bootrig builds (issue 13's benchmarks):
#  1. bootrig build uboot --board qemu-arm, cold (a fresh cache: apt-get
#     source u-boot, defconfig, fragment, olddefconfig, compile) and with
#     nothing changed, each against the same make commands run by hand on
#     the .config bootrig resolved (the anchor), as ratios; and whether the
#     cold image is byte-identical to the one in the user's cache.
#  2. saveenv under emulation, before and after the qemu-arm fragment:
#     "before" is the environment in the second flash bank as qemu-arm had
#     it until it moved to FAT (buffered writes off, which saveenv needs on
#     Debian 12's QEMU at all, the bank probed 32 bits wide, 8 KiB of
#     environment in a whole 256 KiB sector; what qemu-arm-oldboot keeps),
#     "after" the shipped profile: uboot.env in FAT on a virtio disk. Each
#     is the fastest of 3 `bootrig uboot env set --save` minus the fastest
#     of 3 of the same set without --save.
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
profile() { # the shipped qemu-arm profile with the environment "before": in flash
	$br boards show qemu-arm | awk '
		/^ *fragment: \|/ && inbuild {
			print
			print "      # CONFIG_SYS_FLASH_USE_BUFFER_WRITE is not set"
			print "      CONFIG_SYS_FLASH_CFI_WIDTH_32BIT=y"
			print "      CONFIG_ENV_SIZE=0x2000"
			skip=1; next
		}
		skip && /^      / {next}
		{skip=0}
		/^  build:/ {inbuild=1}
		/^[a-z]/ {inbuild=0}
		/^  env: fat$/ {print "  flash_size: 64M"; next}
		{sub(/name: qemu-arm$/, "name: qemu-arm-before"); print}'
}
profile >"$work/qemu-arm-before.yaml"
BOOTRIG_CACHE=$CACHE $br build uboot --board-file "$work/qemu-arm-before.yaml" >"$work/before.txt" 2>&1 || { cat "$work/before.txt"; exit 1; }
fastest() { # $1 = console pty, the rest bootrig uboot env set's arguments; prints the fastest of 3
	local best= t d
	for i in 1 2 3; do
		t=$(now)
		$br uboot env set --port "$@" >/dev/null
		d=$(since "$t")
		if [ -z "$best" ] || [ "$(echo "$d < $best" | bc)" = 1 ]; then best=$d; fi
	done
	echo "$best"
}
saveenv() { # $1 = u-boot.bin, $2 = flash or fat; prints the seconds saveenv took
	local store
	if [ "$2" = flash ]; then
		rm -f "$work/flash1.img"
		truncate -s 64M "$work/flash1.img" && tr '\0' '\377' <"$work/flash1.img" >"$work/f" && mv "$work/f" "$work/flash1.img"
		store=(-drive if=pflash,format=raw,unit=1,file="$work/flash1.img")
	else
		rm -f "$work/envdisk.img"
		mkfs.vfat -C -F 16 "$work/envdisk.img" 32768 >/dev/null
		store=(-drive if=none,format=raw,id=envdisk,file="$work/envdisk.img" -device virtio-blk-device,drive=envdisk)
	fi
	qemu-system-arm -M virt -cpu cortex-a15 -m 128M -bios "$1" -display none -monitor none -nic none \
		-chardev pty,id=ser0 -serial chardev:ser0 "${store[@]}" >"$work/qemu.out" 2>&1 &
	qemu=$!
	until grep -q 'char device redirected to' "$work/qemu.out"; do sleep 0.1; done
	pty=$(sed -n 's/.*redirected to \(\/dev\/[^ ]*\).*/\1/p' "$work/qemu.out")
	plain=$(fastest "$pty" bench=1)
	saved=$(fastest "$pty" --save bench=2)
	kill "$qemu"; wait "$qemu" 2>/dev/null || true; qemu=
	echo "$saved - $plain" | bc | sed 's/^\./0./; s/^-\./-0./'
}
before=$(saveenv "$CACHE/qemu-arm-before/out/u-boot.bin" flash)
after=$(saveenv "$CACHE/qemu-arm/out/u-boot.bin" fat)
echo "saveenv under emulation: before ${before}s (the flash bank: word writes, 256 KiB sector), after ${after}s (uboot.env in FAT on virtio, the qemu-arm fragment), ratio $(ratio "$before" "$after")"
fi

# 3. vexpress-a9.
[ -n "${SKIP_VEXPRESS:-}" ] && exit 0
t=$(now)
$br up --board vexpress-a9 --state "$work/vx" --run true 2>"$work/vx.err" >/dev/null || { cat "$work/vx.err"; exit 1; }
wall=$(since "$t")
shell=$(awk '/^shell / {n=split($0,f,/ +/); print f[n-1]}' "$work/vx.err")
echo "vexpress-a9 power-on to shell: ${shell} after power-on, bootrig up --run true ${wall}s wall"
