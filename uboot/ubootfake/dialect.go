// Package ubootfake is a fake U-Boot console for tests: a board behind an
// in-memory serial port (a [serialcon.Port]) that prints a banner, counts
// down to autoboot, edits a command line like U-Boot's readline, parses it
// like the simple parser or hush, keeps an environment that saveenv
// persists across reset, loads files over a pretend TFTP, and boots into
// a pretend Linux (kernel lines, busybox init, a shell that runs echo,
// printf, cat /proc/cmdline and the like). Its power switch
// ([Board.PowerOn], [Board.PowerOff]) starts it from reset again.
//
// Its dialects come from real boards: [Modern] (Debian's qemu_arm U-Boot),
// [Mini2440] (the 2009-era FriendlyARM fork: 256-byte line buffer, no
// hush, a countdown that prints only a number), [SlowUART] (loses a
// character when two arrive less than 1 ms apart, 16-byte FIFO),
// [Truncating] (a line longer than the buffer is cut silently) and
// [Resetting] (resets in the middle of a command).
package ubootfake

import "time"

// Dialect is how one U-Boot behaves.
type Dialect struct {
	Name   string
	Banner string // first line after power-on
	Prompt string // "=> "
	// OldCountdown prints the countdown as a bare number per second
	// ("\r\n 3", "\b\b 2") instead of "Hit any key to stop autoboot:  3".
	OldCountdown bool
	Bootdelay    int
	CBSize       int // CONFIG_SYS_CBSIZE: a line holds CBSize-2 characters
	MaxArgs      int // CONFIG_SYS_MAXARGS
	Hush         bool
	SaveMessage  string // what saveenv prints; "" when saveenv fails
	Defaults     map[string]string
	// EnvFrom is where a modern U-Boot says it loads its environment
	// from ("Loading Environment from Flash... OK"); "" for an old one
	// that says nothing unless the CRC is bad.
	EnvFrom string
	// NIC is the Ethernet device a network command says it uses.
	NIC string
	// NANDKernel is the size of the kernel image in the NAND flash's
	// kernel partition, which nboot loads; 0 for a board without NAND
	// (nboot is then an unknown command).
	NANDKernel int

	// Line faults.
	FIFO       int           // input bytes held while the CPU is busy; more in one burst are lost (0: unlimited)
	MinGap     time.Duration // a character arriving sooner than this after the previous one is lost
	Truncate   bool          // characters past the buffer are echoed but silently dropped (no bell)
	ResetEvery int           // the board resets after this many input bytes, again and again (0: never)
	LossOneIn  int           // a noisy line: each input byte is lost with probability 1/LossOneIn (0: never)
}

// Modern is Debian 12's qemu_arm U-Boot.
func Modern() Dialect {
	return Dialect{
		Name:        "modern",
		Banner:      "U-Boot 2023.01+dfsg-2 (Jan 11 2023 - 16:20:00 +0000)",
		Prompt:      "=> ",
		Bootdelay:   2,
		CBSize:      1024,
		MaxArgs:     64,
		Hush:        true,
		EnvFrom:     "Flash",
		NIC:         "virtio-net#32",
		SaveMessage: "Saving Environment to Flash... Un-Protected 1 sectors\r\nErasing Flash...\r\n. done\r\nErased 1 sectors\r\nWriting to Flash... done\r\nProtected 1 sectors\r\nOK",
		Defaults: map[string]string{
			"arch": "arm", "baudrate": "115200", "board": "qemu-arm", "bootdelay": "2",
			"kernel_addr_r": "0x40400000", "ramdisk_addr_r": "0x44000000", "scriptaddr": "0x40200000",
			"fdtcontroladdr": "465f4ea0", "stdin": "serial,usbkbd", "stdout": "serial,vidconsole",
			"bootcmd": "run distro_bootcmd",
		},
	}
}

// Mini2440 is the FriendlyARM mini2440's 2009-era U-Boot.
func Mini2440() Dialect {
	return Dialect{
		Name:         "mini2440",
		Banner:       "U-Boot 1.3.2-mini2440 (Mar  6 2009 - 08:51:03)",
		Prompt:       "MINI2440 # ",
		OldCountdown: true,
		Bootdelay:    3,
		CBSize:       256,
		MaxArgs:      16,
		NIC:          "dm9000",
		NANDKernel:   2 << 20,
		SaveMessage:  "Saving Environment to NAND...\r\nErasing Nand...Writing to Nand... done",
		Defaults: map[string]string{
			"bootdelay": "3", "baudrate": "115200", "ethaddr": "08:08:11:18:12:27",
			"ipaddr": "10.0.0.111", "serverip": "10.0.0.4", "netmask": "255.255.255.0",
			"bootcmd": "nboot 0x32000000 kernel; bootm 0x32000000", "stdin": "serial", "stdout": "serial", "stderr": "serial",
		},
	}
}

// SlowUART is a mini2440 whose UART loses a character when two arrive
// less than 1 ms apart, with a 16-byte FIFO.
func SlowUART() Dialect {
	d := Mini2440()
	d.Name, d.MinGap, d.FIFO = "slow-uart", time.Millisecond, 16
	return d
}

// Truncating is a modern U-Boot with a 256-byte buffer that silently cuts
// longer lines instead of ringing the bell.
func Truncating() Dialect {
	d := Modern()
	d.Name, d.CBSize, d.Truncate = "truncating", 256, true
	return d
}

// Resetting is a mini2440 that resets every 600 input bytes, in the
// middle of whatever command is being typed.
func Resetting() Dialect {
	d := Mini2440()
	d.Name, d.ResetEvery = "resetting", 600
	return d
}

// Noisy is a modern U-Boot on a line that loses one byte in 2000, at
// random (seeded: the same bytes every run).
func Noisy() Dialect {
	d := Modern()
	d.Name, d.LossOneIn = "noisy", 2000
	return d
}
