#!/bin/bash
# TFTP download speed: bootrig's server against tftpd-hpa (the anchor,
# ../shared/anchors/README.md), same client (curl), same run, same private
# network namespace. Prints the median of $RUNS downloads of a 32 MiB
# file per block size, and the ratios (>1: bootrig is faster).
#
# Needs root (unshare -n), tftpd-hpa (/usr/sbin/in.tftpd), curl, iproute2.
# Usage: bench/tftp.sh            (from the repository root)
#        SIZE_MIB=8 RUNS=5 bench/tftp.sh
#        BOOTRIG=/path/to/bootrig bench/tftp.sh   (a prebuilt binary)
#        BOOTRIG_ENV="env GOMAXPROCS=1" bench/tftp.sh   (prefix for bootrig's command)
# On a shared, loaded machine `nice -n -10 bench/tftp.sh` steadies both sides alike.
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-32}
RUNS=${RUNS:-9}
BLKSIZES=${BLKSIZES:-"512 1468 8192"}

if [ "${1:-}" != "--in-netns" ]; then
	work=$(mktemp -d /tmp/bench-tftp.XXXXXX)
	trap 'rm -rf "$work"' EXIT
	if [ -n "${BOOTRIG:-}" ]; then cp "$BOOTRIG" "$work/bootrig"; else go build -o "$work/bootrig" ./cmd/bootrig; fi
	mkdir -p "$work/root"
	head -c $((SIZE_MIB << 20)) /dev/urandom >"$work/root/file.bin"
	echo ready >"$work/root/ready.txt"
	# Not exec: the EXIT trap above must run to remove $work.
	unshare -n -- env BOOTRIG_ENV="${BOOTRIG_ENV:-}" WORK="$work" SIZE_MIB="$SIZE_MIB" RUNS="$RUNS" BLKSIZES="$BLKSIZES" \
		bash "$0" --in-netns
	exit
fi

# Inside the namespace: lo, and one non-loopback address so that
# tftpd-hpa's getaddrinfo(AI_ADDRCONFIG) finds something.
ip link set lo up
ip tuntap add tap9 mode tap
ip addr add 192.168.77.1/24 dev tap9
ip link set tap9 up

/usr/sbin/in.tftpd -L -u root -s "$WORK/root" -a 127.0.0.1:69 &
anchor=$!
BOOTRIG_CACHE="$WORK/cache" ${BOOTRIG_ENV:-} "$WORK/bootrig" serve --no-nfs --listen 127.0.0.1 \
	--tftp-port 6969 --tftp-root "$WORK/root" >/dev/null 2>"$WORK/bootrig.log" &
ours=$!
trap 'kill $anchor $ours 2>/dev/null; wait 2>/dev/null' EXIT

# Wait until both answer.
for port in 69 6969; do
	for _ in $(seq 100); do
		curl -s -o /dev/null --max-time 1 "tftp://127.0.0.1:$port/ready.txt" && break
	done
done

# check PORT BLKSIZE: one untimed download, compared with the source.
check() {
	curl -s --tftp-blksize "$2" -o "$WORK/out.bin" "tftp://127.0.0.1:$1/file.bin"
	cmp -s "$WORK/out.bin" "$WORK/root/file.bin" || { echo "port $1 blksize $2: download differs" >&2; exit 1; }
	rm "$WORK/out.bin"
}

# fetch PORT BLKSIZE: seconds for one download. The timed downloads go
# to /dev/null: writing 32 MiB files back to back puts the page cache's
# writeback into the timings (seen: 3-7x swings at blksize 8192).
fetch() {
	curl -s --tftp-blksize "$2" -o /dev/null -w '%{time_total}' "tftp://127.0.0.1:$1/file.bin"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
minimum() { sort -g | head -1; }

# The median is the headline; the minimum is the run least disturbed by
# whatever else the machine is doing (on a shared 2-CPU machine the
# spread is wide, for both servers).
printf '%s MiB over loopback, curl, %s runs each, interleaved\n' "$SIZE_MIB" "$RUNS"
printf '%-8s %12s %12s %8s   %12s %12s %8s\n' blksize 'hpa median' 'ours median' ratio 'hpa min' 'ours min' ratio
for bs in $BLKSIZES; do
	check 69 "$bs"
	check 6969 "$bs"
	a=() b=()
	for _ in $(seq "$RUNS"); do # interleaved, so both see the same machine load
		a+=("$(fetch 69 "$bs")")
		b+=("$(fetch 6969 "$bs")")
	done
	ta=$(printf '%s\n' "${a[@]}" | median)
	tb=$(printf '%s\n' "${b[@]}" | median)
	ma=$(printf '%s\n' "${a[@]}" | minimum)
	mb=$(printf '%s\n' "${b[@]}" | minimum)
	printf '%-8s %12.3f %12.3f %8.2f   %12.3f %12.3f %8.2f\n' "$bs" "$ta" "$tb" "$(echo "$ta / $tb" | bc -l)" \
		"$ma" "$mb" "$(echo "$ma / $mb" | bc -l)"
done
echo "ratio = tftpd-hpa time / bootrig time: above 1, bootrig is faster"
grep 'file=file.bin' "$WORK/bootrig.log" | grep -o 'retransmits=[0-9]*' | sort | uniq -c |
	sed 's/^/bootrig transfers by retransmissions: /'
