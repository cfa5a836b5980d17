package boards

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
)

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Validate checks the rules every profile must keep and returns the first
// broken one as a *FieldError.
func (p *Profile) Validate() error {
	for _, check := range []func() (string, string){
		p.checkRequired, p.checkTarget, p.checkMemory, p.checkNetwork, p.checkConsole, p.checkRoot, p.checkEnvStore, p.checkNICFrames, p.checkUBootBuild,
	} {
		if field, msg := check(); msg != "" {
			return &FieldError{File: p.Source, Field: field, Msg: msg}
		}
	}
	return nil
}

func (p *Profile) checkRequired() (string, string) {
	req := []struct{ field, val string }{
		{"name", p.Name}, {"description", p.Description}, {"docs", p.Docs}, {"arch", p.Arch},
		{"kernel.defconfig", p.Kernel.Defconfig}, {"kernel.image", p.Kernel.Image},
		{"kernel.dtb", p.Kernel.DTB}, {"uboot.prompt", p.UBoot.Prompt.String()},
		{"uboot.autoboot", p.UBoot.Autoboot.String()}, {"uboot.interrupt_key", p.UBoot.InterruptKey},
		{"uboot.bootcmd", p.UBoot.Bootcmd},
		{"linux.console", p.Linux.Console}, {"linux.init", p.Linux.Init},
		{"linux.interface", p.Linux.Interface}, {"linux.shell_prompt", p.Linux.ShellPrompt.String()},
		{"nfs.options", p.NFS.Options}, {"serial.port", p.Serial.Port},
	}
	for _, r := range req {
		if r.val == "" {
			return r.field, "missing (required)"
		}
	}
	switch {
	case !namePattern.MatchString(p.Name):
		return "name", fmt.Sprintf("%q: use lower case letters, digits, '.', '_' and '-'", p.Name)
	case p.Arch != "arm":
		return "arch", fmt.Sprintf("%q is not supported (only arm)", p.Arch)
	case len(p.CrossCompile) == 0:
		return "cross_compile", "missing (list at least one prefix, e.g. arm-linux-gnueabi-)"
	case p.Kernel.LoadAddr == 0 || p.Kernel.EntryAddr == 0:
		return "kernel.load_addr", "load_addr and entry_addr are required"
	case p.Kernel.DTB != "none" && p.Kernel.DTB != "fdtcontroladdr" && !strings.HasPrefix(p.Kernel.DTB, "file:"):
		return "kernel.dtb", fmt.Sprintf("%q: want none, fdtcontroladdr or file:NAME.dtb", p.Kernel.DTB)
	case !strings.Contains(p.Busybox.Fragment, "CONFIG_STATIC=y"):
		return "busybox.fragment", "must set CONFIG_STATIC=y (the root filesystem has no shared libraries)"
	case p.UBoot.Bootdelay < -2:
		return "uboot.bootdelay", fmt.Sprintf("%d: want seconds (0 or more), -1 (no autoboot) or -2 (autoboot, no key checked)", p.UBoot.Bootdelay)
	case p.UBoot.CBSize < 64:
		return "uboot.cbsize", fmt.Sprintf("%d is too small (CONFIG_SYS_CBSIZE is 256 or more on real boards)", p.UBoot.CBSize)
	case p.UBoot.FIFO < 1:
		return "uboot.fifo", "must be at least 1"
	case p.UBoot.CharDelay < 0:
		return "uboot.char_delay", "must not be negative"
	}
	return "", ""
}

func (p *Profile) checkMemory() (string, string) {
	m := p.Memory
	if m.Size == 0 {
		return "memory.size", "missing (required)"
	}
	ramEnd := uint64(m.Base) + uint64(m.Size)
	if ramEnd > 1<<32 {
		return "memory.size", fmt.Sprintf("RAM %s+%s ends beyond 4 GiB", m.Base, m.Size)
	}
	inRAM := func(a uint64) bool { return a >= uint64(m.Base) && a < ramEnd }
	if !inRAM(uint64(p.Kernel.LoadAddr)) {
		return "kernel.load_addr", fmt.Sprintf("%s is outside RAM (%s..0x%08x)", p.Kernel.LoadAddr, m.Base, ramEnd)
	}
	if _, ok := m.Regions["kernel"]; !ok {
		return "memory.regions.kernel", "missing (required: where U-Boot loads the uImage)"
	}
	names := make([]string, 0, len(m.Regions))
	for n := range m.Regions {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, a := range names {
		ra := m.Regions[a]
		field := "memory.regions." + a
		switch a {
		case "kernel", "ramdisk", "fdt", "script":
		default:
			return field, "unknown region (want kernel, ramdisk, fdt or script)"
		}
		if ra.Size == 0 {
			return field + ".size", "missing (required)"
		}
		if !inRAM(uint64(ra.Addr)) || ra.End() > ramEnd {
			return field, fmt.Sprintf("%s+%s is outside RAM (%s..0x%08x)", ra.Addr, ra.Size, m.Base, ramEnd)
		}
		for _, b := range names[i+1:] {
			rb := m.Regions[b]
			if uint64(ra.Addr) < rb.End() && uint64(rb.Addr) < ra.End() {
				return field, fmt.Sprintf("%s+%s overlaps memory.regions.%s (%s+%s)", ra.Addr, ra.Size, b, rb.Addr, rb.Size)
			}
		}
	}
	return "", ""
}

func (p *Profile) checkNetwork() (string, string) {
	n := p.Network
	for _, f := range []struct {
		field string
		ip    netip.Addr
	}{{"network.board_ip", n.BoardIP}, {"network.server_ip", n.ServerIP}, {"network.gateway", n.Gateway}, {"network.netmask", n.Netmask}} {
		if !f.ip.Is4() {
			return f.field, "missing or not an IPv4 address"
		}
	}
	bits, ok := MaskBits(n.Netmask)
	if !ok {
		return "network.netmask", fmt.Sprintf("%s is not a netmask (want e.g. 255.255.255.0)", n.Netmask)
	}
	pfx := netip.PrefixFrom(n.ServerIP, bits)
	if !pfx.Contains(n.BoardIP) {
		return "network.board_ip", fmt.Sprintf("%s is not on the server's network %s", n.BoardIP, pfx.Masked())
	}
	if n.BoardIP == n.ServerIP {
		return "network.board_ip", "same as network.server_ip"
	}
	if msg := CheckNFSOptions(p.NFS.Options); msg != "" {
		return "nfs.options", msg
	}
	return "", ""
}

// checkNICFrames checks qemu.nic_rx_frames: a count of frames, if given.
func (p *Profile) checkNICFrames() (string, string) {
	if q := p.QEMU; q != nil && (q.NICRXFrames < 0 || q.NICRXFrames > 1000) {
		return "qemu.nic_rx_frames", fmt.Sprintf("%d: want 1 to 1000 frames, or none for no limit", q.NICRXFrames)
	}
	return "", ""
}

func (p *Profile) checkConsole() (string, string) {
	if p.Linux.Baud <= 0 {
		return "linux.baud", "missing (required, e.g. 115200)"
	}
	if p.Serial.Baud <= 0 {
		return "serial.baud", "missing (required, e.g. 115200)"
	}
	if p.QEMU != nil && (p.QEMU.Machine == "" || p.QEMU.Binary == "") {
		return "qemu", "binary and machine are required for an emulated board"
	}
	return "", ""
}

// MaskBits returns the prefix length of a dotted netmask.
func MaskBits(mask netip.Addr) (int, bool) {
	if !mask.Is4() {
		return 0, false
	}
	b := mask.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&0x80000000 != 0 {
		n++
		v <<= 1
	}
	return n, v == 0
}

// CheckNFSOptions returns "" when opts let a kernel mount bootrig's
// NFSv3-over-TCP server, else what is wrong.
func CheckNFSOptions(opts string) string {
	var v3, tcp bool
	for _, o := range strings.Split(opts, ",") {
		switch strings.TrimSpace(o) {
		case "v3", "vers=3", "nfsvers=3":
			v3 = true
		case "tcp", "proto=tcp":
			tcp = true
		case "v2", "vers=2", "nfsvers=2", "v4", "vers=4", "nfsvers=4":
			return fmt.Sprintf("%q asks for a version bootrig does not serve (it serves NFSv3 only)", o)
		case "udp", "proto=udp":
			return fmt.Sprintf("%q: bootrig serves NFS over TCP only", o)
		}
	}
	if !v3 || !tcp {
		return fmt.Sprintf("%q must include v3 and tcp (a kernel's nfsroot defaults to NFSv2, old ones to UDP)", opts)
	}
	return ""
}
