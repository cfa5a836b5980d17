package boards

import (
	"errors"
	"fmt"
	"strings"
)

// Root is how the root filesystem reaches the board.
type Root string

// The root modes. One rootfs tree feeds all three.
const (
	// RootNFS mounts the tree from bootrig's NFS server (root=/dev/nfs).
	RootNFS Root = "nfs"
	// RootInitramfs sends the tree as a gzip'd cpio in a U-Boot ramdisk
	// image, loaded by TFTP beside the kernel: bootm KERNEL INITRD [FDT].
	RootInitramfs Root = "initramfs"
	// RootBuiltin links the same archive into the kernel
	// (CONFIG_INITRAMFS_SOURCE): one image.
	RootBuiltin Root = "builtin"
)

// ErrUnknownRoot marks a root mode that is none of nfs, initramfs, builtin.
var ErrUnknownRoot = errors.New("unknown root mode")

// ParseRoot parses --root or the profile's root field; "" is nfs.
func ParseRoot(s string) (Root, error) {
	switch r := Root(strings.TrimSpace(s)); r {
	case "":
		return RootNFS, nil
	case RootNFS, RootInitramfs, RootBuiltin:
		return r, nil
	}
	return "", fmt.Errorf("%w %q: want nfs, initramfs or builtin", ErrUnknownRoot, s)
}

// InRAM reports whether the root lives in the board's RAM (initramfs or
// builtin): no NFS server, and edits on the host need a reboot.
func (r Root) InRAM() bool { return r == RootInitramfs || r == RootBuiltin }

// TFTP file names of the images, in the build output.
const (
	KernelFile        = "uImage"           // the kernel alone (nfs, initramfs)
	BuiltinKernelFile = "uImage-initramfs" // the kernel with its initramfs linked in
	InitrdFile        = "uInitrd"          // the ramdisk image of --root initramfs
)

// KernelFile is the TFTP name of the kernel image this mode boots.
func (r Root) KernelFile() string {
	if r == RootBuiltin {
		return BuiltinKernelFile
	}
	return KernelFile
}

// RootMode is the profile's root mode: its root field, else nfs.
func (p *Profile) RootMode() Root {
	r, err := ParseRoot(p.Root)
	if err != nil {
		return RootNFS // Validate rejects it first
	}
	return r
}

// Limits are size budgets a build must keep; zero means none.
type Limits struct {
	Kernel    Size `yaml:"kernel,omitempty"`    // the kernel's uImage
	Initramfs Size `yaml:"initramfs,omitempty"` // the gzip'd cpio archive
}

// ramBootargs is the kernel command line for a root in RAM: the kernel
// unpacks the archive into its rootfs and runs rdinit (the tree has /init
// too); no root=, no nfsroot=, no ip=.
func (p *Profile) ramBootargs() string {
	return strings.Join(p.consoleArgs("rdinit="), " ")
}

// initrdBootcmd fetches the kernel and the ramdisk image into their
// regions and boots both: bootm KERNEL INITRD, with U-Boot's own device
// tree (fdtcontroladdr) or the fetched one as the third argument where
// the board has one.
func (p *Profile) initrdBootcmd(l Netboot) string {
	kernel, ramdisk := p.Memory.Regions["kernel"].Addr.String(), p.Memory.Regions["ramdisk"].Addr.String()
	cmd := fmt.Sprintf("tftp %s %s; tftp %s %s; bootm %s %s", kernel, l.Image, ramdisk, l.Initrd, kernel, ramdisk)
	switch {
	case p.Kernel.DTB == "fdtcontroladdr":
		cmd += " ${fdtcontroladdr}"
	case strings.HasPrefix(p.Kernel.DTB, "file:"):
		fdt := p.Memory.Regions["fdt"].Addr.String()
		cmd = fmt.Sprintf("tftp %s %s; %s %s", fdt, strings.TrimPrefix(p.Kernel.DTB, "file:"), cmd, fdt)
	}
	return cmd
}

// checkRoot checks the root field and that a RAM root has somewhere to
// be loaded.
func (p *Profile) checkRoot() (string, string) {
	r, err := ParseRoot(p.Root)
	if err != nil {
		return "root", err.Error()
	}
	if r == RootInitramfs {
		if _, ok := p.Memory.Regions["ramdisk"]; !ok {
			return "memory.regions.ramdisk", "missing (root: initramfs loads its image there)"
		}
	}
	if strings.HasPrefix(p.Kernel.DTB, "file:") {
		if _, ok := p.Memory.Regions["fdt"]; !ok && r == RootInitramfs {
			return "memory.regions.fdt", "missing (kernel.dtb is a file: U-Boot loads it there)"
		}
	}
	return "", ""
}
