package lab

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bootrig/bootrig/boards"
)

// QEMU is how to run an emulated board. [QEMU.Args] turns it into
// qemu-system-arm's argument list; [Start] runs it.
type QEMU struct {
	Binary  string // "qemu-system-arm"
	Machine string // "virt"
	CPU     string // "cortex-a15"; "" for the machine's default
	Memory  string // -m value: "128M"; "" for QEMU's default
	BIOS    string // U-Boot: /usr/lib/u-boot/qemu_arm/u-boot.bin
	// BIOSAddr, when not 0, is the RAM address where a U-Boot linked to
	// run from RAM (CONFIG_TEXT_BASE) is loaded and started (QEMU's
	// generic loader) instead of from the boot flash (-bios).
	BIOSAddr uint32
	// NICModel is the machine's own Ethernet chip, wired to the tap with
	// -nic; "" adds a virtio-net-device (see [MachineType]).
	NICModel string

	// Tap is the tap device the board's NIC (virtio-net on MMIO) is
	// wired to, opened by name in the caller's network namespace; "" with
	// no TapFD means no network at all (-nic none).
	Tap string
	// TapFD, when not 0, is an already open tap file descriptor number as
	// the QEMU process sees it (an exec.Cmd ExtraFiles entry is 3 + index).
	TapFD int
	// MAC is the NIC's address; "" for QEMU's default (52:54:00:12:34:56).
	MAC string

	// Flash is the image file of the second pflash bank, where U-Boot
	// keeps its environment ([boards.EnvFlash]); "" for none. It must be
	// exactly the bank's size (64 MiB on virt): see [WriteFlash].
	Flash string
	// FlashSize is the bank's size; Start makes a missing bank of this
	// size, erased. 0: the bank must exist.
	FlashSize int64
	// EnvDisk is the image file of the disk holding a FAT file system
	// with U-Boot's environment in uboot.env ([boards.EnvFAT]), attached
	// as DiskDevice; "" for none. Start makes a missing one: see
	// [EnsureEnvDisk], [WriteEnvDisk].
	EnvDisk string
	// DiskDevice is the block device EnvDisk is attached as
	// ("virtio-blk-device"; see [MachineType]).
	DiskDevice string
	// SerialLog is a file where QEMU itself logs every byte the board
	// sends on its serial line (chardev logfile=); "" for none.
	SerialLog string
	// QMP is the path of the unix socket QEMU's machine protocol listens
	// on; "" for none. [Start] needs it to resume a paused machine.
	QMP string
	// Paused starts with the CPU stopped (-S) until [Machine.Resume].
	Paused bool
	// Extra arguments, appended verbatim.
	Extra []string
}

// FromProfile is the QEMU of an emulated board's profile, with its state
// (flash bank, serial log, QMP socket) in stateDir and its NIC on tap.
// The profile must have a qemu section.
func FromProfile(p *boards.Profile, stateDir, tap string) QEMU {
	q := p.QEMU
	out := QEMU{
		Binary:    q.Binary,
		Machine:   q.Machine,
		CPU:       q.CPU,
		Memory:    q.Memory,
		BIOS:      q.BIOS,
		BIOSAddr:  uint32(q.FirmwareAddr),
		NICModel:  machineTypes[q.Machine].NICModel,
		Tap:       tap,
		SerialLog: filepath.Join(stateDir, SerialLogFile),
		QMP:       filepath.Join(stateDir, QMPFile),
		Paused:    true,
	}
	switch q.Store() {
	case boards.EnvFAT:
		out.EnvDisk = filepath.Join(stateDir, EnvDiskFile)
		out.DiskDevice = machineTypes[q.Machine].DiskDevice
	default:
		out.Flash = filepath.Join(stateDir, FlashFile)
		out.FlashSize = int64(q.FlashSize)
	}
	return out
}

// WriteEnv puts img, a U-Boot environment image, where the board's
// U-Boot loads it from at power-on: uboot.env on EnvDisk, else the start
// of the Flash bank. Only do it while the board is off.
func (q QEMU) WriteEnv(ctx context.Context, img []byte) error {
	switch {
	case q.EnvDisk != "":
		return WriteEnvDisk(ctx, q.EnvDisk, img)
	case q.Flash != "":
		return WriteFlash(q.Flash, q.FlashSize, img)
	}
	return fmt.Errorf("QEMU %s: no flash bank and no disk to write the environment to", q.Machine)
}

// File names in a board's state directory.
const (
	FlashFile     = "flash1.img"  // the second pflash bank: U-Boot's environment (EnvFlash)
	EnvDiskFile   = "envdisk.img" // the FAT disk holding uboot.env (EnvFAT)
	SerialLogFile = "serial.log"  // every byte of the serial line, as QEMU saw it
	QMPFile       = "qmp.sock"    // QEMU's machine protocol
	StateFile     = "lab.json"    // the running lab: see State
)

// SerialID is the chardev id of the board's console.
const SerialID = "ser0"

// Args is QEMU's argument list, without the binary. The QMP socket comes
// before the console's chardev so that it listens before QEMU announces
// the console's pty (see [Start]).
func (q QEMU) Args() []string {
	a := []string{"-M", q.Machine}
	if q.CPU != "" {
		a = append(a, "-cpu", q.CPU)
	}
	if q.Memory != "" {
		a = append(a, "-m", q.Memory)
	}
	if q.BIOSAddr != 0 {
		a = append(a, "-device", fmt.Sprintf("loader,file=%s,addr=0x%x,cpu-num=0", optValue(q.BIOS), q.BIOSAddr))
	} else {
		a = append(a, "-bios", q.BIOS)
	}
	a = append(a, "-display", "none", "-monitor", "none")
	if q.QMP != "" {
		a = append(a, "-qmp", "unix:"+optValue(q.QMP)+",server=on,wait=off")
	}
	ser := "pty,id=" + SerialID
	if q.SerialLog != "" {
		ser += ",logfile=" + optValue(q.SerialLog)
	}
	a = append(a, "-chardev", ser, "-serial", "chardev:"+SerialID)
	a = append(a, q.nicArgs()...)
	if q.Flash != "" {
		a = append(a, "-drive", "if=pflash,format=raw,unit=1,file="+optValue(q.Flash))
	}
	if q.EnvDisk != "" {
		a = append(a, "-drive", "if=none,format=raw,id=envdisk,file="+optValue(q.EnvDisk),
			"-device", q.DiskDevice+",drive=envdisk")
	}
	if q.Paused {
		a = append(a, "-S")
	}
	return append(a, q.Extra...)
}

func (q QEMU) nicArgs() []string {
	var netdev string
	switch {
	case q.TapFD != 0:
		netdev = "tap,id=lan,fd=" + strconv.Itoa(q.TapFD)
	case q.Tap != "":
		netdev = "tap,id=lan,ifname=" + optValue(q.Tap) + ",script=no,downscript=no"
	default:
		return []string{"-nic", "none"}
	}
	if q.NICModel != "" {
		nic := netdev + ",model=" + q.NICModel
		if q.MAC != "" {
			nic += ",mac=" + q.MAC
		}
		return []string{"-nic", nic}
	}
	dev := "virtio-net-device,netdev=lan"
	if q.MAC != "" {
		dev += ",mac=" + q.MAC
	}
	return []string{"-device", dev, "-netdev", netdev}
}

// optValue escapes a value for QEMU's option syntax, where a comma is
// written as two.
func optValue(s string) string { return strings.ReplaceAll(s, ",", ",,") }
