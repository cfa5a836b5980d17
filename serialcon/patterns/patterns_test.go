package patterns

import (
	"regexp"
	"testing"
)

// TestCatalogue checks each pattern against a line a board prints (from
// serialcon/testdata/boot-nfs.txt, the U-Boot and Linux sources) and one
// that only looks like it.
func TestCatalogue(t *testing.T) {
	for _, tc := range []struct {
		name        string
		re          *regexp.Regexp
		match, miss string
	}{
		{"UBootBanner", UBootBanner, "U-Boot 2023.01+dfsg-2 (Jan 11 2023 - 16:20:00 +0000)", "U-Boot SPL 2023.01 (Jan 11 2023)"},
		{"SPLBanner", SPLBanner, "U-Boot SPL 2023.01+dfsg-2 (Jan 11 2023 - 16:20:00 +0000)", "U-Boot 2023.01"},
		{"SPLBanner of a TPL", SPLBanner, "U-Boot TPL 2023.01 (Jan 11 2023 - 16:20:00 +0000)", "SPL: Unsupported Boot Device!"},
		{"Autoboot", Autoboot, "Hit any key to stop autoboot:  0 ", "autoboot in 3 seconds"},
		{"UBootPrompt", UBootPrompt, "crc32 0 4\n=> ", "CRC32 for 00000000 ... 00000003 ==> "},
		{"CommandFailure", CommandFailure, "Unknown command 'bootz' - try 'help'", "Loading: ####"},
		{"SaveenvFailed", SaveenvFailed, "Saving Environment to Flash... Error: start and/or end address not on sector boundary", "Saving Environment to Flash... OK"},
		{"DefaultEnvironment", DefaultEnvironment, "*** Warning - bad CRC, using default environment", "Loading Environment from Flash... OK"},
		{"DefaultEnvironment with no file", DefaultEnvironment, `Loading Environment from FAT... Unable to read "uboot.env" from virtio0:0... `, "Loading Environment from FAT... ** Bad device specification virtio 0 **"},
		{"TFTPStart", TFTPStart, "TFTP from server 192.168.7.1; our IP address is 192.168.7.2", "TFTP from server"},
		{"TFTPFile", TFTPFile, "Filename 'uImage'.", "Load address: 0x40400000"},
		{"TFTPRate", TFTPRate, "\t 11.2 MiB/s", "Loading: 11.2 MiB/s done"},
		{"TFTPBytes", TFTPBytes, "Bytes transferred = 1412216 (158c78 hex)", "Bytes transferred ="},
		{"TFTPFailure", TFTPFailure, "TFTP error: 'File not found' (1)", "TFTP from server 192.168.7.1"},
		{"UBootError", UBootError, "## Error: \"bootcmd\" not defined", "Error: ## in the middle"},
		{"RamdiskFormat", RamdiskFormat, "Wrong Ramdisk Image Format", "Ramdisk to 47e6b000"},
		{"ImageFormat", ImageFormat, "Wrong Image Format for bootm command", "## Booting kernel from Legacy Image at 40400000 ..."},
		{"RetryExceeded", RetryExceeded, "Retry count exceeded; starting again", "Retry"},
		{"TFTPTimeout", TFTPTimeout, "Loading: T T T ", "Loading: #################"},
		{"TFTPError", TFTPError, "TFTP error: 'Access violation' (2)", "No TFTP error: here"},
		{"CPUReset", CPUReset, "resetting ...", "reset vector"},
		{"NoEthernet", NoEthernet, "No ethernet found.", "Net:   eth0: virtio-net#32"},
		{"BadImage", BadImage, "   Bad Data CRC", "   Verifying Checksum ... OK"},
		{"StartingKernel", StartingKernel, "Starting kernel ...", "Loading Kernel Image"},
		{"LinuxVersion", LinuxVersion, "[    0.000000] Linux version 6.1.0 (bootrig@build)", "Linux version"},
		{"IPConfig", IPConfig, "[    0.412345] IP-Config: Complete:", "IP-Config: Guessing netmask"},
		{"MountedRoot", MountedRoot, "[    0.523456] VFS: Mounted root (nfs filesystem) on device 0:14.", "VFS: Cannot open root device"},
		{"MountedNFSRoot", MountedNFSRoot, "[    0.505166] VFS: Mounted root (nfs filesystem) on device 0:9.", "[    0.505166] VFS: Mounted root (ext4 filesystem) readonly on device 179:2."},
		{"Printk", Printk, "[    0.043426] initcall 0xc0401f69 returned 0 after 0 usecs", "[    1.352335 +0.000000] U-Boot 2023.01"},
		{"Initcall", Initcall, "[    0.043426] initcall 0xc0401f69 returned 0 after 0 usecs", "[    0.043420] calling  0xc0401f69 @ 1"},
		{"Initcall with a name", Initcall, "[    0.101234] initcall pl011_init+0x0/0x48 returned 0 after 1953 usecs", "initcall pl011_init returned 0"},
		{"FreeingMemory", FreeingMemory, "[    0.531000] Freeing unused kernel image (initmem) memory: 1024K", "Freeing initrd memory: 1024K"},
		{"InitStarted", InitStarted, "[    0.540000] Run /sbin/init as init process", "Run init"},
		{"Activate", Activate, "Please press Enter to activate this console. ", "press any key"},
		{"Shell", Shell, "/ # ", "/ # ls"},
		{"Login", Login, "buildroot login: ", "login: incorrect"},
		{"NoInit", NoInit, "Kernel panic - not syncing: No working init found.  Try passing init= option to kernel.", "Run /init as init process"},
		{"NoConsole", NoConsole, "Warning: unable to open an initial console.", "console [ttyAMA0] enabled"},
		{"NFSNotResponding", NFSNotResponding, "nfs: server 192.168.7.1 not responding, still trying", "nfs: server 192.168.7.1 OK"},
		{"InitKilledBySIGILL", InitKilledBySIGILL, "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000004", "Attempted to kill init! exitcode=0x0000000b"},
		{"IllegalInstruction", IllegalInstruction, "Illegal instruction", "sh: Illegal instruction"},
		{"KernelPanic", KernelPanic, "Kernel panic - not syncing: VFS: Unable to mount root fs", "panic=1"},
		{"PanicTraceEnd", PanicTraceEnd, "---[ end Kernel panic - not syncing: Attempted to kill init! ]---", "Kernel panic - not syncing"},
		{"Oops", Oops, "Internal error: Oops: 5 [#1] ARM", "oops=panic"},
		{"KernelBug", KernelBug, "[    1.0] BUG: spinlock bad magic on CPU#0", "DEBUG: x"},
		{"UnhandledFault", UnhandledFault, "Unhandled fault: page domain fault (0x01b) at 0x00000000", "fault injection"},
		{"MountFailure", MountFailure, "VFS: Unable to mount root fs via NFS, trying floppy.\n", "VFS: Unable to mount root fs via NFS"},
	} {
		if !tc.re.MatchString(tc.match) {
			t.Errorf("%s %q does not match %q", tc.name, tc.re, tc.match)
		}
		if tc.re.MatchString(tc.miss) {
			t.Errorf("%s %q matches %q", tc.name, tc.re, tc.miss)
		}
	}
}
