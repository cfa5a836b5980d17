#!/bin/bash
# NFSv3 speed: bootrig's userspace server against nfs-ganesha with the VFS
# backend (the anchor, ../shared/anchors/README.md), same client (libnfs-utils),
# same run, same private network namespace, over loopback. For each line it
# prints the median of $RUNS and the speed ratio (>1: bootrig is faster):
#   - sequential read of a 64 MiB file (nfs-cp)
#   - sequential write of a 64 MiB file (nfs-cp)
#   - listing a 10,000-entry directory (nfs-ls)
#   - recursive listing of a busybox root filesystem (nfs-ls -R)
#
# Needs root (unshare -n), nfs-ganesha nfs-ganesha-vfs rpcbind libnfs-utils
# iproute2. The busybox rootfs is $ROOTFS (default: bootrig's qemu-arm build
# output; skipped if absent).
# Usage: bench/nfs.sh                  (from the repository root)
#        RUNS=5 SIZE_MIB=64 bench/nfs.sh
#        BOOTRIG=/path/to/bootrig bench/nfs.sh   (a prebuilt binary)
#        ONLY=list bench/nfs.sh     (only the rows whose function matches: read, write, list)
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-64}
RUNS=${RUNS:-3}
ONLY=${ONLY:-}
ENTRIES=${ENTRIES:-10000}
ROOTFS=${ROOTFS:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrig/qemu-arm/out/rootfs}

if [ "${1:-}" != "--in-netns" ]; then
	work=$(mktemp -d /tmp/bench-nfs.XXXXXX)
	trap 'rm -rf "$work"' EXIT # until exec; then the namespace side removes it
	if [ -n "${BOOTRIG:-}" ]; then mkdir -p "$work/bin"; cp "$BOOTRIG" "$work/bin/bootrig"; else go build -o "$work/bin/bootrig" ./cmd/bootrig; fi
	for side in ganesha bootrig; do
		mkdir -p "$work/$side/many"
		(cd "$work/$side/many" && seq -f 'entry-%05g' 1 "$ENTRIES" | xargs touch)
		if [ -d "$ROOTFS" ]; then cp -a "$ROOTFS" "$work/$side/rootfs"; fi
	done
	head -c $((SIZE_MIB << 20)) /dev/urandom >"$work/ganesha/big.bin"
	cp "$work/ganesha/big.bin" "$work/bootrig/big.bin"
	head -c $((SIZE_MIB << 20)) /dev/urandom >"$work/up.bin"
	ROOTFS_ENTRIES=0
	if [ -d "$work/bootrig/rootfs" ]; then ROOTFS_ENTRIES=$(($(find "$work/bootrig/rootfs" -mindepth 1 | wc -l))); fi
	exec unshare -n -- env WORK="$work" SIZE_MIB="$SIZE_MIB" RUNS="$RUNS" ONLY="$ONLY" ENTRIES="$ENTRIES" ROOTFS_ENTRIES="$ROOTFS_ENTRIES" \
		bash "$0" --in-netns
fi

trap 'rm -rf "$WORK"' EXIT

# Inside the namespace: lo, and one non-loopback address (ganesha exits
# at start without one).
ip link set lo up
ip tuntap add tap9 mode tap
ip addr add 192.168.77.1/24 dev tap9
ip link set tap9 up

rpcbind -f -w &
rpcb=$!
cat >"$WORK/ganesha.conf" <<CONF
NFS_CORE_PARAM {
  NFS_Port = 20490; MNT_Port = 20491; NLM_Port = 20492; Rquota_Port = 20493;
  Enable_NLM = false; Enable_RQUOTA = false; Protocols = 3;
}
NFS_KRB5 { Active_krb5 = false; }
EXPORT {
  Export_Id = 1; Path = $WORK/ganesha; Pseudo = /export;
  Access_Type = RW; Squash = No_Root_Squash; Protocols = 3; Transports = TCP;
  SecType = sys; FSAL { Name = VFS; }
}
CONF
ganesha.nfsd -F -L "$WORK/ganesha.log" -f "$WORK/ganesha.conf" -p "$WORK/ganesha.pid" &
anchor=$!
BOOTRIG_CACHE="$WORK/cache" "$WORK/bin/bootrig" serve --no-tftp --listen 127.0.0.1 --portmap=false \
	--nfs-port 2049 --rootfs "$WORK/bootrig" >/dev/null 2>"$WORK/bootrig.log" &
ours=$!
trap 'kill $anchor $ours $rpcb 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

url() { # SIDE PATH
	case $1 in
	ganesha) echo "nfs://127.0.0.1$WORK/ganesha$2?version=3&nfsport=20490&mountport=20491" ;;
	bootrig) echo "nfs://127.0.0.1$WORK/bootrig$2?version=3&nfsport=2049&mountport=2049" ;;
	esac
}

# Wait until both serve (ganesha has a grace period at start).
for side in ganesha bootrig; do
	for _ in $(seq 300); do
		nfs-ls "$(url $side /many)" >/dev/null 2>&1 && break
		sleep 0.2
	done
done

secs() { # COMMAND...: wall seconds, output discarded, failure fatal
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >"$WORK/out.txt" 2>&1 || { echo "failed: $*" >&2; cat "$WORK/out.txt" >&2; exit 1; }
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}

# Each check fails the run if the client failed or got a wrong result.
read_big() { rm -f "$WORK/down.bin" && nfs-cp "$(url "$1" /big.bin)" "$WORK/down.bin" && cmp "$WORK/down.bin" "$WORK/$1/big.bin"; }
# A new name per run: ganesha's cache would not see the host remove one.
write_big() { local n=up-$RANDOM$RANDOM.bin; nfs-cp "$WORK/up.bin" "$(url "$1" "/$n")" && cmp "$WORK/up.bin" "$WORK/$1/$n" && rm "$WORK/$1/$n"; }
list_many() { local n; n=$(nfs-ls "$(url "$1" /many)" | wc -l) && [ "$n" -eq "$ENTRIES" ] || { echo "$1: listed $n of $ENTRIES" >&2; return 1; }; }
list_rootfs() { local n; n=$(nfs-ls -R "$(url "$1" /rootfs)" | wc -l) && [ "$n" -ge "$ROOTFS_ENTRIES" ] || { echo "$1: recursive listing has $n lines, want $ROOTFS_ENTRIES" >&2; return 1; }; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf 'loopback, libnfs-utils %s, median of %s runs\n' "$(dpkg-query -W -f '${Version}' libnfs-utils 2>/dev/null || echo '?')" "$RUNS"
printf '%-34s %12s %12s %24s\n' test ganesha/s bootrig/s 'speed ratio (b/anchor)'
tests=("read $SIZE_MIB MiB (nfs-cp):read_big" "write $SIZE_MIB MiB (nfs-cp):write_big" "list $ENTRIES entries (nfs-ls):list_many")
[ -d "$WORK/bootrig/rootfs" ] && tests+=("recursive list busybox rootfs:list_rootfs")
for t in "${tests[@]}"; do
	name=${t%%:*} fn=${t##*:}
	[[ -z "$ONLY" || "$fn" == *"$ONLY"* ]] || continue
	a=() b=()
	for _ in $(seq "$RUNS"); do # interleaved, so both see the same machine load
		a+=("$(secs "$fn" ganesha)")
		b+=("$(secs "$fn" bootrig)")
	done
	ta=$(printf '%s\n' "${a[@]}" | median)
	tb=$(printf '%s\n' "${b[@]}" | median)
	printf '%-34s %12.3f %12.3f %24.2f\n' "$name" "$ta" "$tb" "$(echo "$ta / $tb" | bc -l)"
done
