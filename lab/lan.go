package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/bootrig/bootrig/boards"
)

// DefaultTap is the lab's tap device.
const DefaultTap = "tap0"

// LAN is the lab's private network as the server side sees it: a tap
// device, wired to the board's NIC, holding the server's address. There
// is no route anywhere else.
type LAN struct {
	Tap  string       // device name: "tap0"
	Addr netip.Prefix // the server's address on it: 192.168.7.1/24
	// RXFrames, if not 0, is how many full-size frames the board's NIC
	// holds (the profile's qemu.nic_rx_frames): TCP from the servers to
	// the LAN keeps at most that many segments in flight.
	RXFrames int
}

// LANFor is the LAN of a board's lab network; q, if not nil, is the
// emulated board's QEMU section.
func LANFor(l boards.Netboot, q *boards.QEMU) (LAN, error) {
	bits, ok := boards.MaskBits(l.Netmask)
	if !ok || !l.ServerIP.Is4() {
		return LAN{}, fmt.Errorf("lab network: server %s, netmask %s: not an IPv4 network", l.ServerIP, l.Netmask)
	}
	lan := LAN{Tap: DefaultTap, Addr: netip.PrefixFrom(l.ServerIP, bits)}
	if q != nil {
		lan.RXFrames = q.NICRXFrames
	}
	return lan, nil
}

// Setup brings lo up and creates the tap device, with the server's
// address, up. Run it inside a lab namespace (see [Inside]): it changes
// the network of the namespace it runs in. The tap persists with no
// process attached, so QEMU can be powered off and on; an existing one of
// the same name (a lab joined again) is reused.
func (l LAN) Setup() error {
	if err := loUp(); err != nil {
		return err
	}
	tap, err := ensureTap(l.Tap)
	if err != nil {
		return err
	}
	if err := addressUp(tap, l.Addr); err != nil {
		return err
	}
	if l.RXFrames > 0 {
		return clampCwnd(tap, l.Addr, l.RXFrames)
	}
	return nil
}

// clampCwnd replaces the LAN's prefix route (the kernel's, from the
// address) with the same route whose congestion window is locked at
// frames segments (ip route ... cwnd N lock): every TCP connection the
// servers then open or accept toward the board keeps at most that many
// segments unacknowledged, whatever the congestion control (bbr ignores
// loss, so without the clamp it keeps overrunning a NIC that drops).
// vishvananda/netlink's Route has no lock for the window, so the
// request is written out here.
func clampCwnd(link netlink.Link, a netip.Prefix, frames int) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_REPLACE|unix.NLM_F_ACK)
	msg := nl.NewRtMsg()
	msg.Family = unix.AF_INET
	msg.Dst_len = uint8(a.Bits())
	msg.Protocol = unix.RTPROT_KERNEL
	msg.Scope = unix.RT_SCOPE_LINK
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.RTA_DST, a.Masked().Addr().AsSlice()))
	req.AddData(nl.NewRtAttr(unix.RTA_PREFSRC, a.Addr().AsSlice()))
	req.AddData(nl.NewRtAttr(unix.RTA_OIF, nl.Uint32Attr(uint32(link.Attrs().Index))))
	metrics := nl.NewRtAttr(unix.RTA_METRICS, nil)
	metrics.AddRtAttr(unix.RTAX_LOCK, nl.Uint32Attr(1<<unix.RTAX_CWND))
	metrics.AddRtAttr(unix.RTAX_CWND, nl.Uint32Attr(uint32(frames)))
	req.AddData(metrics)
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		return fmt.Errorf("lab LAN: route %s dev %s cwnd %d lock: %w", a.Masked(), link.Attrs().Name, frames, err)
	}
	return nil
}

// loUp brings the namespace's loopback device up.
func loUp() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("lab LAN: find lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("lab LAN: bring lo up: %w", err)
	}
	return nil
}

// addressUp gives link the server's address and brings it up.
func addressUp(link netlink.Link, a netip.Prefix) error {
	name := link.Attrs().Name
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: a.Addr().AsSlice(), Mask: net.CIDRMask(a.Bits(), 32)}}
	if err := netlink.AddrReplace(link, addr); err != nil {
		return fmt.Errorf("lab LAN: address %s on %s: %w", a, name, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("lab LAN: bring %s up: %w", name, err)
	}
	return nil
}

// ensureTap is the persistent tap device name, created if missing.
func ensureTap(name string) (netlink.Link, error) {
	if link, err := netlink.LinkByName(name); err == nil {
		return link, nil
	}
	t := &netlink.Tuntap{
		LinkAttrs: netlink.LinkAttrs{Name: name},
		Mode:      netlink.TUNTAP_MODE_TAP,
		Flags:     netlink.TUNTAP_NO_PI | netlink.TUNTAP_ONE_QUEUE,
	}
	if err := netlink.LinkAdd(t); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("lab LAN: create tap %s: %w (/dev/net/tun must be usable: mode 0666 as Debian ships it)", name, err)
		}
		return nil, fmt.Errorf("lab LAN: create tap %s: %w", name, err)
	}
	link, err := netlink.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("lab LAN: find new tap %s: %w", name, err)
	}
	return link, nil
}
