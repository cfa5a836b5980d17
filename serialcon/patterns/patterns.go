// Package patterns is the one catalogue of what boards print on their
// consoles: U-Boot's banner, countdown and prompt, the lines of a TFTP
// download, the kernel's boot milestones, and the lines that show a
// failure. The U-Boot driver (uboot), the phase tracker
// (serialcon.Phases) and the bring-up (lab/up) all read it; a new console
// pattern goes here, with a line it must match in patterns_test.go.
//
// A board's own prompt, countdown and shell prompt are data in its profile
// (boards/profiles); the defaults here serve a board that names none.
// Patterns marked "per line" are matched against one line without its
// line ending; the others against a buffer of output.
package patterns

import "regexp"

// U-Boot.
var (
	// UBootBanner starts every boot of U-Boot proper (lib/display_options.c:
	// "U-Boot 2023.01 (Jan 11 2023 - 16:20:00 +0000)").
	UBootBanner = regexp.MustCompile(`(?m)^U-Boot \d+\.\d+`)
	// SPLBanner starts one of the stages a board's U-Boot runs before
	// U-Boot proper, in the same power-on: TPL, VPL, then SPL, each
	// printing its banner (common/spl/spl.c: "U-Boot SPL 2023.01 (...)").
	// Group 1 is the stage.
	SPLBanner = regexp.MustCompile(`(?m)^U-Boot (TPL|VPL|SPL) \d+\.\d+`)
	// Autoboot is the countdown of a U-Boot that names none other.
	Autoboot = regexp.MustCompile(`Hit any key to stop autoboot`)
	// UBootPrompt is the default prompt, at a line start and the end of
	// the output, so that "==> " (crc32) is not taken for one.
	UBootPrompt = regexp.MustCompile(`(?m)^=> $`)
	// CommandFailure is U-Boot refusing or failing a command.
	CommandFailure = regexp.MustCompile(`(?m)^(Unknown command .*|## Error: .*|\*\* Too many args.*|Usage:|Can't overwrite .*|## Can't .*)$`)
	// SaveenvFailed is saveenv's output when it did not save.
	SaveenvFailed = regexp.MustCompile(`(?i)failed|timeout|error|not supported|read-only`)
	// DefaultEnvironment is U-Boot booting without the saved environment:
	// a bad CRC, or no environment file in the file system it is kept in
	// (env/fat.c, env/ext4.c: `Unable to read "uboot.env" from virtio0:0...`).
	DefaultEnvironment = regexp.MustCompile(`bad CRC, using default environment|using default environment|Unable to read "[^"]*" from \S+\.\.\.`)
)

// A TFTP download, as U-Boot prints it (per line).
var (
	TFTPStart = regexp.MustCompile(`TFTP from server \S+; our IP address is`)
	TFTPFile  = regexp.MustCompile(`^Filename '([^']*)'`)
	TFTPRate  = regexp.MustCompile(`^\s*([\d.]+ [KMG]?i?B/s)\s*$`)
	TFTPBytes = regexp.MustCompile(`Bytes transferred = (\d+)`)
	// TFTPFailure is any download that failed, in a buffer; group 1 is the
	// server's message for a TFTP error.
	TFTPFailure = regexp.MustCompile(`TFTP error: '([^'\r\n]*)'|Retry count exceeded|ARP Retry count exceeded`)
)

// U-Boot's failures (per line).
var (
	UBootError    = regexp.MustCompile(`^## Error`)
	RamdiskFormat = regexp.MustCompile(`Wrong Ramdisk Image Format`)
	ImageFormat   = regexp.MustCompile(`^Wrong Image Format for bootm|can't get kernel image`)
	RetryExceeded = regexp.MustCompile(`Retry count exceeded`)
	TFTPTimeout   = regexp.MustCompile(`^(Loading:)?[\s#*\x08]*T[\s#*T\x08]*$`) // a T per timeout
	TFTPError     = regexp.MustCompile(`^TFTP error: `)
	CPUReset      = regexp.MustCompile(`Resetting CPU|^resetting \.\.\.`)
	NoEthernet    = regexp.MustCompile(`^No ethernet found`)
	BadImage      = regexp.MustCompile(`^\s*Bad (Data CRC|Header Checksum|Magic Number)|^Unsupported Architecture`)
)

// Boot milestones, from U-Boot's handover to init.
var (
	StartingKernel = regexp.MustCompile(`Starting kernel`)
	LinuxVersion   = regexp.MustCompile(`Linux version \S+`)
	IPConfig       = regexp.MustCompile(`IP-Config: Complete`) // the kernel has its network
	MountedRoot    = regexp.MustCompile(`VFS: Mounted root`)
	// MountedNFSRoot is MountedRoot of an NFS root (init/do_mounts.c:
	// "VFS: Mounted root (%s filesystem)"; nfs4 for NFSv4).
	MountedNFSRoot = regexp.MustCompile(`VFS: Mounted root \(nfs4? filesystem\)`)
	FreeingMemory  = regexp.MustCompile(`Freeing unused kernel`)
	InitStarted    = regexp.MustCompile(`Run \S+ as init process|init started: BusyBox|Please press Enter to activate`)
	// Activate is busybox init waiting for Enter before it starts a shell.
	Activate = regexp.MustCompile(`Please press Enter to activate this console`)
	// Shell is a Linux shell prompt, for a board that names none.
	Shell = regexp.MustCompile(`[#$] $`)
	Login = regexp.MustCompile(`login: $`)
)

// The kernel's own records (per line).
var (
	// Printk is the timestamp printk puts before a line (CONFIG_PRINTK_TIME:
	// "[    0.412345] "); groups 1 and 2 are its seconds and microseconds.
	Printk = regexp.MustCompile(`^\[\s*(\d+)\.(\d{6})\] `)
	// Initcall is initcall_debug's line after an initcall returns
	// (init/main.c: "initcall %pS returned %d after %lld usecs"); group 1
	// is its name (without the +0xOFF/0xLEN of an address-only kernel),
	// group 3 the microseconds it took.
	Initcall = regexp.MustCompile(`initcall (\S+?)(\+0x[0-9a-f]+/0x[0-9a-f]+)? returned -?\d+ after (\d+) usecs`)
)

// The kernel's failures (per line).
var (
	NoInit           = regexp.MustCompile(`No working init found|No init found|Requested init \S+ failed`)
	NoConsole        = regexp.MustCompile(`nable to open an initial console`)
	NFSNotResponding = regexp.MustCompile(`nfs: server \S+ not responding`)
	// InitKilledBySIGILL is init dying of signal 4 (0x84 with a core
	// dump), as kernel/exit.c prints it.
	InitKilledBySIGILL = regexp.MustCompile(`Attempted to kill init! exitcode=0x000000[08]4\b`)
	// IllegalInstruction is a program's SIGILL, as a shell or the
	// kernel's user-fault debugging prints it.
	IllegalInstruction = regexp.MustCompile(`^Illegal instruction|\(1\): undefined instruction: pc=`)
	KernelPanic        = regexp.MustCompile(`Kernel panic`)
	// PanicTraceEnd closes a panic's trace and repeats its line.
	PanicTraceEnd  = regexp.MustCompile(`---\[ end Kernel panic`)
	Oops           = regexp.MustCompile(`Internal error: Oops|\] Oops`)
	KernelBug      = regexp.MustCompile(`(^|\] )BUG: `)
	UnhandledFault = regexp.MustCompile(`Unhandled fault`)
	// MountFailure is a whole line (through its "\n") on which the root
	// filesystem could not be mounted or started, in a buffer.
	MountFailure = regexp.MustCompile(`(VFS: Unable to mount root fs via NFS|Kernel panic|No working init found)[^\n]*\n`)
)
