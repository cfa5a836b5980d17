package crossbuild

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/bootrig/bootrig/devtable"
)

// skelFile is one file of the root filesystem skeleton.
type skelFile struct {
	Path string // relative to the rootfs: "etc/inittab"
	Mode fs.FileMode
	Data string
}

// skeletonDirs are the directories every root filesystem gets.
var skeletonDirs = []string{
	"bin", "sbin", "usr/bin", "usr/sbin", "etc/init.d", "proc", "sys", "dev", "dev/pts",
	"tmp", "root", "var/log", "var/run", "mnt", "home", "lib",
}

// skeleton is the /etc a busybox system boots with, for a board whose
// console device is console ("ttyAMA0") and whose hostname is host.
func skeleton(console, host string) []skelFile {
	const header = "# Written by 'bootrig build' when missing; a rebuild keeps your edits\n# ('bootrig build --clean-rootfs' starts over).\n"
	return []skelFile{
		{"etc/inittab", 0o644, header + "# busybox init: id:runlevels:action:process; id is the tty to run on.\n" +
			"::sysinit:/etc/init.d/rcS\n" +
			console + "::respawn:-/bin/sh\n" +
			"::restart:/sbin/init\n" +
			"::ctrlaltdel:/sbin/reboot\n" +
			"::shutdown:/bin/umount -a -r\n"},
		{"etc/init.d/rcS", 0o755, "#!/bin/sh\n" + header +
			"# From an initramfs (bootrig --root initramfs|builtin) the kernel mounts no\n" +
			"# devtmpfs on /dev, and there is no / to remount: mount /dev here.\n" +
			"mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev 2>/dev/null\n" +
			"mkdir -p /dev/pts /dev/shm\n" +
			"mount -a\n" +
			"# mdev handles hotplug when the kernel has CONFIG_UEVENT_HELPER.\n" +
			"[ -w /proc/sys/kernel/hotplug ] && echo /sbin/mdev > /proc/sys/kernel/hotplug\n" +
			"# The kernel fills a devtmpfs /dev itself (CONFIG_DEVTMPFS_MOUNT); a full\n" +
			"# mdev -s there costs seconds on a slow board and adds nothing.\n" +
			"grep -q '^devtmpfs /dev ' /proc/mounts || mdev -s\n" +
			"hostname -F /etc/hostname\n" +
			"ifconfig lo 127.0.0.1 up\n"},
		{"etc/fstab", 0o644, header +
			"# device  mountpoint  type    options               dump pass\n" +
			"proc      /proc       proc    defaults              0    0\n" +
			"sysfs     /sys        sysfs   defaults              0    0\n" +
			"tmpfs     /tmp        tmpfs   mode=1777             0    0\n" +
			"devpts    /dev/pts    devpts  gid=5,mode=620        0    0\n"},
		{"etc/passwd", 0o644, "root::0:0:root:/root:/bin/sh\n" +
			"daemon:x:1:1:daemon:/usr/sbin:/bin/false\n" +
			"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"},
		{"etc/group", 0o644, "root:x:0:\ndaemon:x:1:\ntty:x:5:\nnogroup:x:65534:\n"},
		{"etc/hostname", 0o644, host + "\n"},
		{"etc/hosts", 0o644, "127.0.0.1\tlocalhost\n127.0.1.1\t" + host + "\n"},
		{"etc/profile", 0o644, header + "export PATH=/bin:/sbin:/usr/bin:/usr/sbin\nexport PS1='\\h:\\w\\$ '\n"},
	}
}

// superseded are the SHA-256 sums of skeleton files as earlier bootrig
// versions wrote them: a file still holding one of those (not edited by
// anyone) is replaced by the current version, which a rebuild otherwise
// keeps. rcS before root modes ran mdev -s whenever /dev was no devtmpfs,
// seconds at every boot of an initramfs.
var superseded = map[string][]string{
	"etc/init.d/rcS": {
		"753c3a1fc07cb6de30a64ddbe9f352b70b21245134d1513bc9ba54df3b7a2198", // mdev -s always
		"8f1f09be72d0107fbaac0377677b9899a04c9231fd02f57454382da21104eefe", // mdev -s unless devtmpfs
	},
}

// initLink is the /init every rootfs gets: the kernel runs /init from an
// initramfs (not /sbin/init) unless rdinit= says otherwise.
const initLink, initTarget = "init", "sbin/init"

// DeviceTable is the rootfs's device table for the NFS server: /dev with
// console, null, zero, tty and the board's serial device.
func DeviceTable(console string) []devtable.Entry { return devtable.Default(console) }

// inittabEntry is one parsed /etc/inittab line.
type inittabEntry struct{ ID, Runlevels, Action, Process string }

var inittabActions = map[string]bool{
	"sysinit": true, "wait": true, "once": true, "respawn": true, "askfirst": true,
	"shutdown": true, "restart": true, "ctrlaltdel": true,
}

// parseInittab parses busybox init's inittab: id:runlevels:action:process.
func parseInittab(data string) ([]inittabEntry, error) {
	var out []inittabEntry
	for i, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.SplitN(line, ":", 4)
		if len(f) != 4 || !inittabActions[f[2]] || f[3] == "" {
			return nil, fmt.Errorf("inittab:%d: %q is not id:runlevels:action:process with a busybox action", i+1, line)
		}
		out = append(out, inittabEntry{f[0], f[1], f[2], f[3]})
	}
	return out, nil
}

// fstabEntry is one parsed /etc/fstab line.
type fstabEntry struct{ Device, Dir, Type, Options string }

// parseFstab parses fstab: six whitespace-separated fields per entry.
func parseFstab(data string) ([]fstabEntry, error) {
	var out []fstabEntry
	for i, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 6 || !strings.HasPrefix(f[1], "/") {
			return nil, fmt.Errorf("fstab:%d: %q: want device mountpoint type options dump pass", i+1, line)
		}
		out = append(out, fstabEntry{f[0], f[1], f[2], f[3]})
	}
	return out, nil
}
