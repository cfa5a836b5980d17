package boards

import (
	"fmt"
	"net/netip"
	"strings"
)

// Netboot is the network and export a board boots with. Zero fields take the
// profile's defaults (see [Profile.Netboot]).
type Netboot struct {
	ServerIP netip.Addr
	BoardIP  netip.Addr
	Gateway  netip.Addr
	Netmask  netip.Addr
	// Export is the path the kernel mounts from bootrig's NFS server: the
	// root filesystem's absolute path, or "/".
	Export string
	// Image is the uImage's file name on the TFTP server (default: the
	// root mode's, [Root.KernelFile]).
	Image string
	// Root is how the root gets to the board (default: the profile's).
	Root Root
	// Initrd is the ramdisk image's file name on the TFTP server
	// (default [InitrdFile]); used by --root initramfs.
	Initrd string
}

// Netboot fills the zero fields of l from the profile's defaults and checks
// that the result is a usable network.
func (p *Profile) Netboot(l Netboot) (Netboot, error) {
	def := func(v *netip.Addr, d netip.Addr) {
		if !v.IsValid() {
			*v = d
		}
	}
	def(&l.ServerIP, p.Network.ServerIP)
	def(&l.BoardIP, p.Network.BoardIP)
	def(&l.Gateway, p.Network.Gateway)
	def(&l.Netmask, p.Network.Netmask)
	if l.Export == "" {
		l.Export = "/"
	}
	if l.Root == "" {
		l.Root = p.RootMode()
	}
	if l.Image == "" {
		l.Image = l.Root.KernelFile()
	}
	if l.Initrd == "" {
		l.Initrd = InitrdFile
	}
	bits, ok := MaskBits(l.Netmask)
	if !ok {
		return l, fmt.Errorf("netmask %s is not a netmask (want e.g. 255.255.255.0)", l.Netmask)
	}
	for name, ip := range map[string]netip.Addr{"server IP": l.ServerIP, "board IP": l.BoardIP, "gateway": l.Gateway} {
		if !ip.Is4() {
			return l, fmt.Errorf("%s %s is not an IPv4 address", name, ip)
		}
	}
	if !netip.PrefixFrom(l.ServerIP, bits).Contains(l.BoardIP) {
		return l, fmt.Errorf("board IP %s is not on the server's network %s/%d", l.BoardIP, l.ServerIP, bits)
	}
	if !strings.HasPrefix(l.Export, "/") || strings.ContainsAny(l.Export, ", \t\n") {
		return l, fmt.Errorf("export %q must be an absolute path without commas or spaces", l.Export)
	}
	return l, nil
}

// Bootargs is the kernel command line for booting with its root on
// bootrig's NFS server, or in RAM when l.Root says so.
func (p *Profile) Bootargs(l Netboot) string {
	if l.Root.InRAM() {
		return p.ramBootargs()
	}
	args := []string{
		"noinitrd", "root=/dev/nfs", "rw",
		fmt.Sprintf("nfsroot=%s:%s,%s", l.ServerIP, l.Export, p.NFS.Options),
		fmt.Sprintf("ip=%s:%s:%s:%s::%s:off", l.BoardIP, l.ServerIP, l.Gateway, l.Netmask, p.Linux.Interface),
	}
	return strings.Join(append(args, p.consoleArgs("init=")...), " ")
}

// consoleArgs is the tail every command line ends with: the console, the
// init program (initKey is "init=" or, for a RAM root, "rdinit="), mem=
// and the profile's extra arguments.
func (p *Profile) consoleArgs(initKey string) []string {
	args := []string{fmt.Sprintf("console=%s,%d", p.Linux.Console, p.Linux.Baud), initKey + p.Linux.Init}
	if p.Linux.Mem != "" {
		args = append(args, "mem="+p.Linux.Mem)
	}
	if p.Linux.Extra != "" {
		args = append(args, p.Linux.Extra)
	}
	return args
}

// Bootcmd is the U-Boot command that fetches the uImage by TFTP and boots
// it (and the ramdisk image, for --root initramfs).
func (p *Profile) Bootcmd(l Netboot) string {
	if l.Root == RootInitramfs {
		return p.initrdBootcmd(l)
	}
	addr := func(region string) string {
		if r, ok := p.Memory.Regions[region]; ok {
			return r.Addr.String()
		}
		return ""
	}
	return strings.NewReplacer(
		"{kernel}", addr("kernel"), "{ramdisk}", addr("ramdisk"),
		"{fdt}", addr("fdt"), "{image}", l.Image,
	).Replace(p.UBoot.Bootcmd)
}
