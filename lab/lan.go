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
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("lab LAN: find lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("lab LAN: bring lo up: %w", err)
	}
	tap, err := l.tap()
	if err != nil {
		return err
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: l.Addr.Addr().AsSlice(), Mask: net.CIDRMask(l.Addr.Bits(), 32)}}
	if err := netlink.AddrReplace(tap, addr); err != nil {
		return fmt.Errorf("lab LAN: address %s on %s: %w", l.Addr, l.Tap, err)
	}
	if err := netlink.LinkSetUp(tap); err != nil {
		return fmt.Errorf("lab LAN: bring %s up: %w", l.Tap, err)
	}
	return nil
}

func (l LAN) tap() (netlink.Link, error) {
	if link, err := netlink.LinkByName(l.Tap); err == nil {
		return link, nil
	}
	t := &netlink.Tuntap{
		LinkAttrs: netlink.LinkAttrs{Name: l.Tap},
		Mode:      netlink.TUNTAP_MODE_TAP,
		Flags:     netlink.TUNTAP_NO_PI | netlink.TUNTAP_ONE_QUEUE,
	}
	if err := netlink.LinkAdd(t); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("lab LAN: create tap %s: %w (/dev/net/tun must be usable: mode 0666 as Debian ships it)", l.Tap, err)
		}
		return nil, fmt.Errorf("lab LAN: create tap %s: %w", l.Tap, err)
	}
	link, err := netlink.LinkByName(l.Tap)
	if err != nil {
		return nil, fmt.Errorf("lab LAN: find new tap %s: %w", l.Tap, err)
	}
	return link, nil
}
