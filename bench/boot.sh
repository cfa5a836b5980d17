#!/bin/bash
# The emulated board, end to end (issue 8's benchmarks):
#  1. Power-on to shell prompt with nothing to rebuild: `bootrig up --run true`
#     $RUNS times; the median of each phase (bootrig's own steps, then the
#     board's phases as the console shows them), U-Boot's TFTP rate for the
#     uImage, and the wall time of the whole command.
#  2. In the board, over NFS: sequential read and write of a 64 MiB file (dd)
#     and `find | wc -l` over the busybox rootfs (board caches dropped
#     first), served by a `bootrig serve` and by nfs-ganesha (VFS backend,
#     the anchor of ../shared/anchors/README.md), both started in the lab's
#     namespace on the same LAN, exporting the same directory (a copy of the
#     rootfs), mounted by the same kernel with the same options, timed on the
#     board in microseconds; as ratios (>1: bootrig is faster).
#
# Needs root (ganesha's VFS backend needs capabilities a user namespace
# cannot give; it runs in the lab's network namespace through nsenter),
# qemu-system-arm u-boot-qemu nfs-ganesha nfs-ganesha-vfs rpcbind, and a
# qemu-arm build in the cache (bootrig build --board qemu-arm).
#  1b. The same for each root mode (--root nfs, initramfs, builtin), with
#     the images' sizes and the RAM in use at the prompt (needs jq).
# Usage: bench/boot.sh                 (from the repository root)
#        RUNS=5 bench/boot.sh
#        BOOTRIG=/path/to/bootrig bench/boot.sh
#        ONLY=nfs bench/boot.sh          (section 2 alone)
set -euo pipefail

RUNS=${RUNS:-3}
SIZE_MIB=${SIZE_MIB:-64}
CACHE=${BOOTRIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrig}
ROOTFS=$CACHE/qemu-arm/out/rootfs

work=$(mktemp -d /tmp/bench-boot.XXXXXX)
cleanup() {
	[ -n "${qemu:-}" ] && kill "$qemu" 2>/dev/null || true
	[ -n "${anchor:-}" ] && kill -- -"$anchor" 2>/dev/null || true # ganesha and rpcbind
	[ -n "${ours:-}" ] && kill -- -"$ours" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$work" "$ROOTFS/root/nfsbench.sh"
}
trap cleanup EXIT
if [ -n "${BOOTRIG:-}" ]; then cp "$BOOTRIG" "$work/bootrig"; else go build -o "$work/bootrig" ./cmd/bootrig; fi
br=$work/bootrig
$br build --board qemu-arm >/dev/null 2>&1 || { echo "bootrig build failed" >&2; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "-"; else print a[int((NR+1)/2)]}'; }

if [ "${ONLY:-}" != nfs ]; then
# 1. Power-on to shell prompt.
echo "== power-on to shell prompt, nothing to rebuild (median of $RUNS)"
for i in $(seq "$RUNS"); do
	t0=$(date +%s.%N)
	$br up --quiet --state "$work/state$i" --run true 2>"$work/up$i.err" >/dev/null
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc >"$work/wall$i"
done
{
	for i in $(seq "$RUNS"); do
		# "bootrig: build   12ms" -> step and seconds; phase lines -> name and start.
		awk '/^bootrig: / {v=$NF; u=v; sub(/[a-zµ]+$/,"",v); if (u ~ /ms$/) v/=1000; else if (u ~ /µs$/) v/=1e6; name=$0; sub(/ +[^ ]+$/,"",name); print name "\t" v}
		     /^(U-Boot|autoboot|tftp|Starting kernel|Linux version|VFS: Mounted root|Freeing unused|init|shell) / {
		        n=split($0,f,/ +/); at=f[n-1]; sub(/s$/,"",at); name=$0; sub(/ +[0-9.]+s +[0-9.]+s$/,"",name); sub(/ at [0-9.]+ [KMG]?i?B\/s$/,"",name); sub(/ [0-9]+ bytes$/,"",name); print "board at: " name "\t" at }
		     /^tftp uImage/ {match($0,/at [0-9.]+ [KMG]?i?B\/s/); print "U-Boot TFTP rate (MiB/s)\t" substr($0,RSTART+3,RLENGTH-3)}' "$work/up$i.err"
		echo "bootrig up --run true (wall, s)	$(cat "$work/wall$i")"
	done
} >"$work/phases.tsv"
awk -F'\t' '!seen[$1]++ {print $1}' "$work/phases.tsv" | while IFS= read -r name; do
	v=$(awk -F'\t' -v n="$name" '$1==n {print $2+0}' "$work/phases.tsv" | median)
	printf "  %-40s %8s\n" "$name" "$v"
done
echo "  (board phases are seconds since QEMU was powered on; goal: shell <= 2 s, whole command <= 4 s)"

# 1b. Each root mode (issue 14): power-on to shell prompt, the images the
# mode boots, and the RAM in use at the prompt (total - available, from
# free on the board, through up --run --json).
echo "== power-on to shell prompt by root mode (median of $RUNS), the images' sizes, RAM at the prompt"
kib() { awk -v n="$1" 'BEGIN {printf "%.0fK", n / 1024}'; }
printf "  %-10s %8s %8s %8s %10s %10s %10s %10s\n" root shell_s wall_s vs_nfs kernel initramfs unpacked ram_used
for mode in nfs initramfs builtin; do
	$br build --board qemu-arm --root $mode --json >"$work/build-$mode.json" 2>"$work/build-$mode.err" || {
		cat "$work/build-$mode.err" >&2
		exit 1
	}
	for i in $(seq "$RUNS"); do
		t0=$(date +%s.%N)
		$br up --quiet --root $mode --state "$work/state-$mode$i" --run true --json 2>"$work/up-$mode$i.err" >"$work/up-$mode$i.json" || {
			cat "$work/up-$mode$i.err" >&2
			exit 1
		}
		t1=$(date +%s.%N)
		echo "$t1 - $t0" | bc >>"$work/wall-$mode"
		jq -r '.phases[] | select(.phase == "shell") | .at_s' "$work/up-$mode$i.json" >>"$work/shell-$mode"
		jq -r '.memory.total - .memory.available' "$work/up-$mode$i.json" >>"$work/ram-$mode"
	done
	shell=$(median <"$work/shell-$mode")
	[ "$mode" = nfs ] && nfs_shell=$shell
	printf "  %-10s %8.2f %8.2f %8.2f %10s %10s %10s %10s\n" "$mode" "$shell" "$(median <"$work/wall-$mode")" \
		"$(echo "$nfs_shell / $shell" | bc -l)" "$(kib "$(jq .sizes.uimage "$work/build-$mode.json")")" \
		"$(kib "$(jq '.sizes.initramfs // 0' "$work/build-$mode.json")")" "$(kib "$(jq '.sizes.cpio // 0' "$work/build-$mode.json")")" \
		"$(kib "$(median <"$work/ram-$mode")")"
done
echo "  (vs_nfs > 1: at the shell sooner than the NFS root; kernel is the uImage the mode boots)"
fi

# 2. NFS in the board: bootrig (the root) against ganesha (/mnt).
echo "== in the board over NFS: bootrig vs nfs-ganesha, same lab, same kernel, same mount options"
state=$work/state-nfs
profile=$work/qemu-arm.yaml
# The board's root names its ports, so no portmapper is needed once it is
# up: ganesha's rpcbind takes port 111.
cp boards/profiles/qemu-arm.yaml "$profile" || {
	echo "run from the repository root (boards/profiles/qemu-arm.yaml)" >&2
	exit 1
}
sed -i 's/^\(  options: .*\)$/\1,port=2049,mountport=2049,mountproto=tcp/' "$profile"
# The directory both servers export: a copy of the board's root filesystem
# (a bootrig server holds its export's metadata store, so it cannot be the
# root's own), with the files read.
exp=$work/export
cp -a "$ROOTFS" "$exp"
if [ -f "$ROOTFS.devtable" ]; then cp "$ROOTFS.devtable" "$exp.devtable"; fi
mkdir -p "$exp/root/bench"
for i in $(seq "$RUNS"); do # a file per run and server: the board reads each cold
	for side in bootrig ganesha; do head -c $((SIZE_MIB << 20)) /dev/urandom >"$exp/root/bench/read-$side-$i.bin"; done
done
cat "$exp"/root/bench/read-*.bin >/dev/null # both servers read from the host's page cache
# Both servers are measured through mounts of their own with the same
# options (only the ports differ), neither of them the board's root (which
# boots with actimeo=1 and is warm from the boot).
opts=vers=3,tcp,nolock,mountproto=tcp,rsize=1048576,wsize=1048576,lookupcache=positive
cat >"$ROOTFS/root/nfsbench.sh" <<EOF
#!/bin/sh
# Written by bench/boot.sh: $RUNS rounds, the servers' order alternating.
# now: the wall clock in microseconds (adjtimex; /proc/uptime has 10 ms steps).
now() { adjtimex | awk '/tv_sec/ {s = \$2} /tv_usec/ {u = \$2} END {printf "%d.%06d\\n", s, u}'; }
t() { s=\$(now); "\$@" >/dev/null 2>&1 || echo "failed: \$*" >&2; e=\$(now); awk "BEGIN {printf \\"%.4f\\", \$e - \$s}"; }
# The mount points on a tmpfs: nothing is left in the board's root (the
# build output, which tests copy).
mount -t tmpfs tmpfs /mnt || exit 1
mkdir -p /mnt/bootrig /mnt/ganesha
mount -t nfs -o $opts,port=2050,mountport=2050 192.168.7.1:$exp /mnt/bootrig || exit 1
mount -t nfs -o $opts,port=20490,mountport=20491 192.168.7.1:$exp /mnt/ganesha || exit 1
# find walks the same tree on both sides, before any write of the round (a
# write-*.bin made between the two finds was one of the 9 entries of
# difference), without dev/ (bootrig's device node placeholders), with
# the board's caches of both mounts dropped first: the first round also
# finds the servers cold, the later ones warm.
walk() { find "\$1" -path "\$1/dev" -prune -o -print; }
for i in \$(seq $RUNS); do
	order="bootrig ganesha"; [ \$((i % 2)) = 0 ] && order="ganesha bootrig"
	for side in \$order; do
		sync; echo 3 >/proc/sys/vm/drop_caches
		k=find; [ \$i = 1 ] && k=find1
		echo "\$side \$k \$(t sh -c "find /mnt/\$side -path /mnt/\$side/dev -prune -o -print | wc -l")"
		[ \$i = 1 ] && echo "\$side entries \$(walk /mnt/\$side | wc -l)"
	done
	for side in \$order; do
		d=/mnt/\$side/root/bench
		echo "\$side read \$(t dd if=\$d/read-\$side-\$i.bin of=/dev/null bs=1M)"
		echo "\$side write \$(t dd if=/dev/zero of=\$d/write-\$side.bin bs=1M count=$SIZE_MIB conv=fsync)"
	done
done
umount /mnt/bootrig /mnt/ganesha /mnt
EOF
chmod +x "$ROOTFS/root/nfsbench.sh"
$br up --board-file "$profile" --quiet --keep --state "$state" --run true >/dev/null 2>"$work/keep.err" || {
	cat "$work/keep.err" >&2
	exit 1
}
qemu=$(awk -F'[:,]' '/"qemu_pid"/ {gsub(/ /,"",$2); print $2}' "$state/lab.json")
cat >"$work/ganesha.conf" <<CONF
NFS_CORE_PARAM {
  NFS_Port = 20490; MNT_Port = 20491; NLM_Port = 20492; Rquota_Port = 20493;
  Enable_NLM = false; Enable_RQUOTA = false; Protocols = 3;
}
NFS_KRB5 { Active_krb5 = false; }
EXPORT {
  Export_Id = 1; Path = $exp; Pseudo = /export;
  Access_Type = RW; Squash = No_Root_Squash; Protocols = 3; Transports = TCP;
  SecType = sys; FSAL { Name = VFS; }
}
CONF
# rpcbind and ganesha in the lab's network namespace, as root, with a /run
# of their own (rpcbind's socket must not meet the host's).
setsid nsenter --target "$qemu" --net -- unshare --mount -- bash -c '
	mount -t tmpfs tmpfs /run
	rpcbind -f -w &
	for _ in $(seq 50); do rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && break; sleep 0.1; done
	exec ganesha.nfsd -F -L "$1/ganesha.log" -f "$1/ganesha.conf" -p "$1/ganesha.pid"' _ "$work" &
anchor=$!
for _ in $(seq 100); do # until ganesha has registered NFS with rpcbind
	nsenter --target "$qemu" --net -- rpcinfo -p 127.0.0.1 2>/dev/null | grep -q '100003 *3 *tcp *20490' && break
	sleep 0.2
done
# bootrig's side: a server of its own (as ganesha is), in the same
# namespace, exporting the same directory; the board's root stays on the
# one bootrig up started.
setsid nsenter --target "$qemu" --net -- "$br" serve --board-file "$profile" --no-tftp --listen 192.168.7.1 \
	--portmap=false --nfs-port 2050 --rootfs "$exp" >/dev/null 2>"$work/serve.err" &
ours=$!
for _ in $(seq 100); do
	nsenter --target "$qemu" --net -- rpcinfo -n 2050 -t 192.168.7.1 100003 3 >/dev/null 2>&1 && break
	sleep 0.1
done
$br up --board-file "$profile" --quiet --attach --no-portmap --state "$state" --run /root/nfsbench.sh \
	>"$work/nfs.out" 2>"$work/nfs.err" || {
	cat "$work/nfs.err" "$work/nfs.out" >&2
	exit 1
}
grep -v '^\[' "$work/nfs.out" >"$work/nfs.tsv"
m() { awk -v s="$1" -v k="$2" '$1==s && $2==k {print $3}' "$work/nfs.tsv" | median; }
printf "  %-36s %10s %10s %8s\n" "(median of $RUNS)" bootrig ganesha ratio
for k in read write find find1; do
	b=$(m bootrig $k) g=$(m ganesha $k)
	case $k in read) n="read $SIZE_MIB MiB (s)" ;; write) n="write $SIZE_MIB MiB, fsync (s)" ;; find) n="find, board caches dropped (s)" ;; find1) n="find, all cold (round 1) (s)" ;; esac
	printf "  %-36s %10s %10s %8.2f\n" "$n" "$b" "$g" "$(echo "$g / $b" | bc -l)"
done
echo "  entries seen: bootrig $(m bootrig entries), ganesha $(m ganesha entries); ratio > 1: bootrig is faster"
