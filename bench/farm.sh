#!/bin/bash
# Many boards on one host (issue 18): N emulated qemu-arm boards booted
# at once, each a named instance in a lab of its own (bootrig up --name
# fN-I --run true), for N = 1, 2, 4 ($COUNTS). Per N, the median over
# $RUNS rounds of each board's power-on to shell prompt (the "shell" phase
# as its console shows it) and of the wall time until the last board's
# command returned; the ratio is against N = 1 in the same run (1.00: as
# fast as one board alone).
# Needs qemu-system-arm, u-boot-qemu and a qemu-arm build in the cache
# (bootrig build --board qemu-arm). Boots boards: run it alone, e.g.
#   flock /tmp/bootrig-boot.lock bench/farm.sh
# Usage: bench/farm.sh   RUNS=5 COUNTS="1 2 3 4" bench/farm.sh
set -euo pipefail

RUNS=${RUNS:-3}
COUNTS=${COUNTS:-1 2 4}
work=$(mktemp -d /tmp/bench-farm.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ -n "${BOOTRIG:-}" ]; then cp "$BOOTRIG" "$work/bootrig"; else go build -o "$work/bootrig" ./cmd/bootrig; fi
br=$work/bootrig
$br build --board qemu-arm >/dev/null 2>&1 || { echo "bootrig build failed" >&2; exit 1; }
export BOOTRIG_STATE=$work/state

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "-"; else print a[int((NR+1)/2)]}'; }

echo "== N qemu-arm boards booted at once on $(nproc) cores (median of $RUNS rounds)"
printf "  %-4s %18s %8s %18s %8s\n" N "shell prompt (s)" ratio "all done, wall (s)" ratio
for n in $COUNTS; do
	for r in $(seq "$RUNS"); do
		t0=$(date +%s.%N)
		for i in $(seq "$n"); do
			$br up --quiet --name "f$n-$i" --run true 2>"$work/up-$n-$r-$i.err" >/dev/null &
		done
		wait
		echo "$(date +%s.%N) - $t0" | bc >>"$work/wall-$n"
		for i in $(seq "$n"); do
			awk '/^shell / {v=$(NF-1); sub(/s$/,"",v); print v}' "$work/up-$n-$r-$i.err" >>"$work/shell-$n"
		done
	done
	s=$(median <"$work/shell-$n") w=$(median <"$work/wall-$n")
	[ "$n" = "$(echo "$COUNTS" | awk '{print $1}')" ] && { s1=$s; w1=$w; }
	printf "  %-4s %18s %8.2f %18s %8.2f\n" "$n" "$s" "$(echo "$s1 / $s" | bc -l)" "$w" "$(echo "$w1 / $w" | bc -l)"
done
echo "  (ratio: N = $(echo "$COUNTS" | awk '{print $1}') over N; below 1 the boards slow each other down)"
