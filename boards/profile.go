// Package boards holds board profiles: what bootrig needs to know about a
// board to build for it, drive its U-Boot and boot it from the network.
//
// Start with [Lookup] (a shipped or user profile by name) or [LoadFile]
// (a profile from a path), then [Profile.Bootargs] and [Profile.Bootcmd]
// for the kernel command line and U-Boot boot command they imply.
//
// Profiles are YAML. Shipped ones are embedded from profiles/*.yaml; user
// ones live in ~/.config/bootrig/boards/*.yaml and override shipped ones of
// the same name.
package boards

import (
	"net/netip"
	"time"
)

// Profile describes one board. Field tags name the YAML keys; every key is
// required unless its comment says optional.
type Profile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Docs        string `yaml:"docs"` // link to the board's documentation
	Arch        string `yaml:"arch"` // "arm"

	// CrossCompile lists cross-compiler prefixes to try, in order.
	CrossCompile []string `yaml:"cross_compile"`

	// The processor, and what its userland is built for and run on
	// before it is served (see [Profile.Target]).
	CPU     string `yaml:"cpu"`      // gcc's -mcpu name: "arm920t"
	March   string `yaml:"march"`    // gcc's -march level: "armv4t"
	Float   string `yaml:"float"`    // -mfloat-abi: soft, softfp (VFP, soft calls) or hard
	QEMUCPU string `yaml:"qemu_cpu"` // qemu-arm -cpu model executing exactly the CPU's level: "ti925t"

	Kernel  Kernel  `yaml:"kernel"`
	Busybox Busybox `yaml:"busybox"`
	Memory  Memory  `yaml:"memory"`
	UBoot   UBoot   `yaml:"uboot"`
	Linux   Linux   `yaml:"linux"`
	Network Network `yaml:"network"`
	NFS     NFS     `yaml:"nfs"`
	Serial  Serial  `yaml:"serial"`
	QEMU    *QEMU   `yaml:"qemu,omitempty"` // optional: emulated boards only

	// Root is how the root filesystem reaches the board by default:
	// nfs (when empty), initramfs or builtin (see [Root]). Optional.
	Root string `yaml:"root,omitempty"`
	// Limits are size budgets for the build. Optional.
	Limits Limits `yaml:"limits,omitempty"`

	// Source is where the profile was loaded from ("embedded:qemu-arm.yaml"
	// or a file path). Set by the loader, not read from YAML.
	Source string `yaml:"-"`
}

// Kernel is how the kernel is configured, built and wrapped.
type Kernel struct {
	Defconfig string `yaml:"defconfig"` // e.g. "mini2440_defconfig", "tinyconfig"
	Fragment  string `yaml:"fragment"`  // Kconfig fragment merged over the defconfig
	Image     string `yaml:"image"`     // make target: "zImage"
	LoadAddr  Addr   `yaml:"load_addr"` // uImage load address
	EntryAddr Addr   `yaml:"entry_addr"`
	// DTB is "none", "fdtcontroladdr" (U-Boot's own device tree, as QEMU
	// hands it over) or "file:NAME.dtb" (built by the kernel, sent by TFTP).
	DTB string `yaml:"dtb"`
}

// Busybox is how busybox is configured.
type Busybox struct {
	Fragment string `yaml:"fragment"` // applied over defconfig; CONFIG_STATIC=y at least
}

// Memory is the board's RAM and the regions U-Boot loads files into.
type Memory struct {
	Base Addr `yaml:"base"`
	Size Size `yaml:"size"`
	// Regions are where U-Boot's tftp puts files: "kernel" is required,
	// "ramdisk", "fdt" and "script" are optional. They must lie in RAM and
	// not overlap each other.
	Regions map[string]Region `yaml:"regions"`
}

// Region is a window of board memory.
type Region struct {
	Addr Addr `yaml:"addr"`
	Size Size `yaml:"size"`
}

// End is the first address after the region.
func (r Region) End() uint64 { return uint64(r.Addr) + uint64(r.Size) }

// UBoot is how the board's U-Boot behaves on its console.
type UBoot struct {
	Prompt       Regexp        `yaml:"prompt"`        // e.g. "MINI2440 # $"
	Autoboot     Regexp        `yaml:"autoboot"`      // countdown text
	InterruptKey string        `yaml:"interrupt_key"` // sent to stop autoboot
	Bootdelay    int           `yaml:"bootdelay"`     // seconds, as shipped
	CBSize       int           `yaml:"cbsize"`        // CONFIG_SYS_CBSIZE: longest console line + NUL
	FIFO         int           `yaml:"fifo"`          // input FIFO bytes: typing chunk size
	CharDelay    time.Duration `yaml:"char_delay"`    // pause between characters; 0 for none
	Hush         bool          `yaml:"hush"`          // hush shell (quotes, ;, if)
	Saveenv      bool          `yaml:"saveenv"`       // saveenv works on this board
	// Bootcmd is the boot command with placeholders {kernel}, {ramdisk},
	// {fdt} (region addresses) and {image} (the uImage's file name).
	Bootcmd string `yaml:"bootcmd"`
	// Env is optional: more variables bootrig sets in the board's
	// U-Boot, such as tftpwindowsize where its U-Boot speaks RFC 7440.
	// The ones bootrig computes (bootargs, bootcmd, the network) win.
	Env map[string]string `yaml:"env"`
	// Build is the U-Boot bootrig builds for the board (bootrig build
	// uboot); optional. An emulated board with one boots it instead of
	// qemu.bios.
	Build *UBootBuild `yaml:"build,omitempty"`
}

// UBootBuild is how U-Boot is configured, from Debian's u-boot source.
type UBootBuild struct {
	Defconfig string `yaml:"defconfig"` // e.g. "qemu_arm_defconfig"
	Fragment  string `yaml:"fragment"`  // optional: Kconfig fragment merged over the defconfig
}

// Linux is what the kernel and userland need on the command line.
type Linux struct {
	Console     string `yaml:"console"` // device: "ttySAC0"
	Baud        int    `yaml:"baud"`
	Mem         string `yaml:"mem"`          // optional: "64M" adds mem=64M
	Init        string `yaml:"init"`         // "/linuxrc"
	Interface   string `yaml:"interface"`    // NIC the kernel configures: "eth0"
	ShellPrompt Regexp `yaml:"shell_prompt"` // the board's shell prompt
	Extra       string `yaml:"extra"`        // optional: appended to the command line
}

// Network is the board's default lab network.
type Network struct {
	BoardIP  netip.Addr `yaml:"board_ip"`
	ServerIP netip.Addr `yaml:"server_ip"`
	Gateway  netip.Addr `yaml:"gateway"`
	Netmask  netip.Addr `yaml:"netmask"`
	NIC      string     `yaml:"nic"` // optional: the board's Ethernet chip, for people
}

// NFS is how the kernel mounts its root.
type NFS struct {
	// Options for nfsroot=; bootrig's server speaks NFSv3 over TCP, so
	// they must say v3 (or vers=3) and tcp (or proto=tcp).
	Options string `yaml:"options"`
}

// Serial is the board's console port on the host.
type Serial struct {
	Port string `yaml:"port"` // default port spec; "qemu" for the emulated board
	Baud int    `yaml:"baud"`
}

// QEMU describes how to emulate the board.
type QEMU struct {
	Binary  string `yaml:"binary"`  // qemu-system-arm
	Machine string `yaml:"machine"` // virt
	CPU     string `yaml:"cpu"`     // cortex-a15
	Memory  string `yaml:"memory"`  // -m value: "128M"
	// BIOS is the U-Boot binary; optional (and then not allowed) when
	// uboot.build names the U-Boot bootrig builds.
	BIOS string `yaml:"bios,omitempty"`
	// FirmwareAddr is optional: the RAM address where U-Boot is loaded
	// and started, for a U-Boot linked to run from RAM (its
	// CONFIG_TEXT_BASE), as vexpress_ca9x4's is; else QEMU starts it from
	// the boot flash (-bios).
	FirmwareAddr Addr `yaml:"firmware_addr,omitempty"`
	// Env is where U-Boot keeps its environment, and so where the lab
	// writes it while the board is off: EnvFlash (the default, "") or
	// EnvFAT.
	Env EnvStore `yaml:"env,omitempty"`
	// EnvSize is the size of U-Boot's environment (CONFIG_ENV_SIZE): the
	// image at the start of the flash bank, or the whole of uboot.env.
	EnvSize Size `yaml:"env_size"`
	// FlashSize is the size of the second pflash bank, the environment's
	// with EnvFlash; none with EnvFAT.
	FlashSize Size `yaml:"flash_size,omitempty"`
	// NICRXFrames is optional: how many full-size Ethernet frames the
	// emulated NIC can hold before it drops what comes in. The lab then
	// keeps TCP toward the board to that many segments in flight (a
	// locked congestion window on the LAN's route), so a burst from the
	// servers never overruns it. 0: no limit (virtio-net queues, it does
	// not drop).
	NICRXFrames int `yaml:"nic_rx_frames,omitempty"`
}

// EnvStore is where an emulated board's U-Boot keeps its environment.
type EnvStore string

const (
	// EnvFlash is the start of the second pflash bank
	// (CONFIG_ENV_IS_IN_FLASH), where Debian's qemu_arm U-Boot keeps it.
	EnvFlash EnvStore = "flash"
	// EnvFAT is the file EnvFATFile in a FAT file system on a virtio-blk
	// disk (CONFIG_ENV_IS_IN_FAT), as Raspberry Pi users keep uboot.env
	// on their boot partition.
	EnvFAT EnvStore = "fat"
)

// EnvFATFile is the file U-Boot loads and saves its environment in with
// EnvFAT (CONFIG_ENV_FAT_FILE, U-Boot's default).
const EnvFATFile = "uboot.env"

// Store is q's environment store: Env, EnvFlash when unset.
func (q *QEMU) Store() EnvStore {
	if q.Env == "" {
		return EnvFlash
	}
	return q.Env
}
