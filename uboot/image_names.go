package uboot

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// The four enumerated header fields. Their values are U-Boot's
// (include/image.h: IH_ARCH_*, IH_OS_*, IH_TYPE_*, IH_COMP_*); their names
// are mkimage's, as `mkimage -A list` and friends print them (U-Boot
// 2023.01, boot/image.c).
type (
	// Arch is the CPU architecture an image is for (-A).
	Arch uint8
	// OS is the operating system an image belongs to (-O).
	OS uint8
	// Type is what an image holds: a kernel, a ramdisk, a script... (-T).
	Type uint8
	// Comp is the compression of the payload as recorded in the header
	// (-C). Writing an image never compresses: the field says what the
	// payload already is.
	Comp uint8
)

// Architectures.
const (
	ArchInvalid    Arch = 0
	ArchAlpha      Arch = 1
	ArchARM        Arch = 2
	ArchX86        Arch = 3 // IH_ARCH_I386
	ArchIA64       Arch = 4
	ArchMIPS       Arch = 5
	ArchMIPS64     Arch = 6
	ArchPPC        Arch = 7
	ArchS390       Arch = 8
	ArchSH         Arch = 9
	ArchSPARC      Arch = 10
	ArchSPARC64    Arch = 11
	ArchM68K       Arch = 12
	ArchMicroBlaze Arch = 14
	ArchNIOS2      Arch = 15
	ArchBlackfin   Arch = 16
	ArchAVR32      Arch = 17
	ArchSandbox    Arch = 19
	ArchNDS32      Arch = 20
	ArchOpenRISC   Arch = 21
	ArchARM64      Arch = 22
	ArchARC        Arch = 23
	ArchX86_64     Arch = 24
	ArchXtensa     Arch = 25
	ArchRISCV      Arch = 26
)

// Operating systems.
const (
	OSInvalid   OS = 0
	OSOpenBSD   OS = 1
	OSNetBSD    OS = 2
	OSFreeBSD   OS = 3
	OS44BSD     OS = 4
	OSLinux     OS = 5
	OSSVR4      OS = 6
	OSEsix      OS = 7
	OSSolaris   OS = 8
	OSIrix      OS = 9
	OSSCO       OS = 10
	OSDell      OS = 11
	OSNCR       OS = 12
	OSVxWorks   OS = 14
	OSpSOS      OS = 15
	OSQNX       OS = 16
	OSUBoot     OS = 17
	OSRTEMS     OS = 18
	OSIntegrity OS = 21
	OSOSE       OS = 22
	OSPlan9     OS = 23
	OSOpenRTOS  OS = 24
	OSATF       OS = 25 // ARM Trusted Firmware
	OSTEE       OS = 26
	OSOpenSBI   OS = 27
	OSEFI       OS = 28
)

// Image types. The legacy writer makes the first eight and kernel_noload;
// the others are formats of their own that mkimage writes with other
// handlers, named here so that headers carrying them can be listed.
const (
	TypeInvalid      Type = 0
	TypeStandalone   Type = 1
	TypeKernel       Type = 2
	TypeRamdisk      Type = 3
	TypeMulti        Type = 4
	TypeFirmware     Type = 5
	TypeScript       Type = 6
	TypeFilesystem   Type = 7
	TypeFlatDT       Type = 8
	TypeKernelNoload Type = 14
)

// Compressions.
const (
	CompNone  Comp = 0
	CompGzip  Comp = 1
	CompBzip2 Comp = 2
	CompLZMA  Comp = 3
	CompLZO   Comp = 4
	CompLZ4   Comp = 5
	CompZstd  Comp = 6
)

// ErrUnknownName is wrapped by every error for an arch, OS, type or
// compression name mkimage does not know.
var ErrUnknownName = errors.New("unknown name")

// entry is one row of mkimage's name tables.
type entry struct {
	id          uint8
	short, long string
}

// table is one of mkimage's name tables. Rows are in boot/image.c's order:
// the first row for an id gives its names (powerpc before ppc).
type table struct {
	what    string // "architecture", as mkimage's "Invalid architecture"
	unknown string // the long name printed for an id not in the table
	rows    []entry
}

var archTable = table{"architecture", "Unknown Architecture", []entry{
	{0, "invalid", "Invalid ARCH"}, {1, "alpha", "Alpha"}, {2, "arm", "ARM"},
	{3, "x86", "Intel x86"}, {4, "ia64", "IA64"}, {12, "m68k", "M68K"},
	{14, "microblaze", "MicroBlaze"}, {5, "mips", "MIPS"}, {6, "mips64", "MIPS 64 Bit"},
	{15, "nios2", "NIOS II"}, {7, "powerpc", "PowerPC"}, {7, "ppc", "PowerPC"},
	{8, "s390", "IBM S390"}, {9, "sh", "SuperH"}, {10, "sparc", "SPARC"},
	{11, "sparc64", "SPARC 64 Bit"}, {16, "blackfin", "Blackfin"}, {17, "avr32", "AVR32"},
	{20, "nds32", "NDS32"}, {21, "or1k", "OpenRISC 1000"}, {19, "sandbox", "Sandbox"},
	{22, "arm64", "AArch64"}, {23, "arc", "ARC"}, {24, "x86_64", "AMD x86_64"},
	{25, "xtensa", "Xtensa"}, {26, "riscv", "RISC-V"},
}}

var osTable = table{"operating system", "Unknown OS", []entry{
	{0, "invalid", "Invalid OS"}, {25, "arm-trusted-firmware", "ARM Trusted Firmware"},
	{5, "linux", "Linux"}, {2, "netbsd", "NetBSD"}, {22, "ose", "Enea OSE"},
	{23, "plan9", "Plan 9"}, {18, "rtems", "RTEMS"}, {26, "tee", "Trusted Execution Environment"},
	{17, "u-boot", "U-Boot"}, {14, "vxworks", "VxWorks"}, {16, "qnx", "QNX"},
	{21, "integrity", "INTEGRITY"}, {4, "4_4bsd", "4_4BSD"}, {11, "dell", "Dell"},
	{7, "esix", "Esix"}, {3, "freebsd", "FreeBSD"}, {9, "irix", "Irix"},
	{12, "ncr", "NCR"}, {1, "openbsd", "OpenBSD"}, {15, "psos", "pSOS"},
	{10, "sco", "SCO"}, {8, "solaris", "Solaris"}, {6, "svr4", "SVR4"},
	{24, "openrtos", "OpenRTOS"}, {27, "opensbi", "RISC-V OpenSBI"}, {28, "efi", "EFI Firmware"},
}}

var typeTable = table{"image type", "Unknown Image", []entry{
	{13, "aisimage", "Davinci AIS image"}, {7, "filesystem", "Filesystem Image"},
	{5, "firmware", "Firmware"}, {8, "flat_dt", "Flat Device Tree"},
	{17, "gpimage", "TI Keystone SPL Image"}, {2, "kernel", "Kernel Image"},
	{14, "kernel_noload", "Kernel Image (no loading done)"}, {9, "kwbimage", "Kirkwood Boot Image"},
	{10, "imximage", "Freescale i.MX Boot Image"}, {38, "imx8image", "NXP i.MX8 Boot Image"},
	{37, "imx8mimage", "NXP i.MX8M Boot Image"}, {0, "invalid", "Invalid Image"},
	{4, "multi", "Multi-File Image"}, {12, "omapimage", "TI OMAP SPL With GP CH"},
	{15, "pblimage", "Freescale PBL Boot Image"}, {3, "ramdisk", "RAMDisk Image"},
	{6, "script", "Script"}, {19, "socfpgaimage", "Altera SoCFPGA CV/AV preloader"},
	{35, "socfpgaimage_v1", "Altera SoCFPGA A10 preloader"}, {1, "standalone", "Standalone Program"},
	{11, "ublimage", "Davinci UBL image"}, {16, "mxsimage", "Freescale MXS Boot Image"},
	{18, "atmelimage", "ATMEL ROM-Boot Image"}, {20, "x86_setup", "x86 setup.bin"},
	{21, "lpc32xximage", "LPC32XX Boot Image"}, {23, "rkimage", "Rockchip Boot Image"},
	{24, "rksd", "Rockchip SD Boot Image"}, {25, "rkspi", "Rockchip SPI Boot Image"},
	{30, "vybridimage", "Vybrid Boot Image"}, {26, "zynqimage", "Xilinx Zynq Boot Image"},
	{27, "zynqmpimage", "Xilinx ZynqMP Boot Image"}, {28, "zynqmpbif", "Xilinx ZynqMP Boot Image (bif)"},
	{29, "fpga", "FPGA Image"}, {31, "tee", "Trusted Execution Environment Image"},
	{32, "firmware_ivt", "Firmware with HABv4 IVT"}, {33, "pmmc", "TI Power Management Micro-Controller Firmware"},
	{34, "stm32image", "STMicroelectronics STM32 Image"}, {36, "mtk_image", "MediaTek BootROM loadable Image"},
	{39, "copro", "Coprocessor Image"}, {40, "sunxi_egon", "Allwinner eGON Boot Image"},
	{41, "sunxi_toc0", "Allwinner TOC0 Boot Image"},
}}

var compTable = table{"compression", "Unknown Compression", []entry{
	{0, "none", "uncompressed"}, {2, "bzip2", "bzip2 compressed"}, {1, "gzip", "gzip compressed"},
	{3, "lzma", "lzma compressed"}, {4, "lzo", "lzo compressed"}, {5, "lz4", "lz4 compressed"},
	{6, "zstd", "zstd compressed"},
}}

// lookup finds the row for id.
func (t *table) lookup(id uint8) (entry, bool) {
	for _, e := range t.rows {
		if e.id == id {
			return e, true
		}
	}
	return entry{}, false
}

func (t *table) long(id uint8) string {
	if e, ok := t.lookup(id); ok {
		return e.long
	}
	return t.unknown
}

func (t *table) short(id uint8) string {
	if e, ok := t.lookup(id); ok {
		return e.short
	}
	return fmt.Sprintf("%d", id)
}

// parse finds name, ignoring case as mkimage does.
func (t *table) parse(name string) (uint8, error) {
	for _, e := range t.rows {
		if strings.EqualFold(e.short, name) {
			return e.id, nil
		}
	}
	return 0, &NameError{What: t.what, Name: name, Valid: t.names()}
}

// names are the table's short names, sorted.
func (t *table) names() []string {
	var n []string
	for _, e := range t.rows {
		n = append(n, e.short)
	}
	sort.Strings(n)
	return n
}

// NameError is an arch, OS, type or compression name that is not known
// (or, for types, not a legacy image). It lists the valid names.
type NameError struct {
	What  string   // "architecture", "operating system", "image type", "compression"
	Name  string   // what was asked for
	Valid []string // the names that would have worked
}

func (e *NameError) Error() string {
	return fmt.Sprintf("unknown %s %q; valid: %s", e.What, e.Name, strings.Join(e.Valid, ", "))
}

func (e *NameError) Unwrap() error { return ErrUnknownName }

// String is the architecture's long name, as mkimage -l prints it ("ARM").
func (a Arch) String() string { return archTable.long(uint8(a)) }

// Name is the architecture's short name, as mkimage -A takes it ("arm").
func (a Arch) Name() string { return archTable.short(uint8(a)) }

// String is the OS's long name, as mkimage -l prints it ("Linux").
func (o OS) String() string { return osTable.long(uint8(o)) }

// Name is the OS's short name, as mkimage -O takes it ("linux").
func (o OS) Name() string { return osTable.short(uint8(o)) }

// String is the type's long name, as mkimage -l prints it ("Kernel Image").
func (t Type) String() string { return typeTable.long(uint8(t)) }

// Name is the type's short name, as mkimage -T takes it ("kernel").
func (t Type) Name() string { return typeTable.short(uint8(t)) }

// String is the compression's long name, as mkimage -l prints it
// ("uncompressed", "gzip compressed").
func (c Comp) String() string { return compTable.long(uint8(c)) }

// Name is the compression's short name, as mkimage -C takes it ("none").
func (c Comp) Name() string { return compTable.short(uint8(c)) }

// Legacy reports whether images of this type are plain legacy images:
// a header and the payload, as this package writes them (mkimage's
// default_image handler, without firmware_ivt's trailer).
func (t Type) Legacy() bool {
	return (t > TypeInvalid && t < TypeFlatDT) || t == TypeKernelNoload
}

// ParseArch parses an architecture name as mkimage -A does ("arm", "ARM",
// "arm64", "ppc"). The error for an unknown name is a *NameError.
func ParseArch(name string) (Arch, error) {
	id, err := archTable.parse(name)
	return Arch(id), err
}

// ParseOS parses an operating system name as mkimage -O does ("linux").
func ParseOS(name string) (OS, error) {
	id, err := osTable.parse(name)
	return OS(id), err
}

// ParseComp parses a compression name as mkimage -C does ("none", "gzip").
func ParseComp(name string) (Comp, error) {
	id, err := compTable.parse(name)
	return Comp(id), err
}

// ParseType parses an image type name as mkimage -T does, but only the
// legacy types this package writes: standalone, kernel, kernel_noload,
// ramdisk, multi, firmware, script and filesystem. Other names, including
// mkimage's own formats (imximage, rksd...), are a *NameError.
func ParseType(name string) (Type, error) {
	id, err := typeTable.parse(name)
	if err == nil && Type(id).Legacy() {
		return Type(id), nil
	}
	var valid []string
	for _, n := range typeTable.names() {
		if id, _ := typeTable.parse(n); Type(id).Legacy() {
			valid = append(valid, n)
		}
	}
	return 0, &NameError{What: "legacy image type", Name: name, Valid: valid}
}
