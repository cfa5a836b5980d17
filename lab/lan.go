package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
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
}

// LANFor is the LAN of a board's lab network.
func LANFor(l boards.Netboot) (LAN, error) {
	bits, ok := boards.MaskBits(l.Netmask)
	if !ok || !l.ServerIP.Is4() {
		return LAN{}, fmt.Errorf("lab network: server %s, netmask %s: not an IPv4 network", l.ServerIP, l.Netmask)
	}
	return LAN{Tap: DefaultTap, Addr: netip.PrefixFrom(l.ServerIP, bits)}, nil
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
	return addressUp(tap, l.Addr)
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
