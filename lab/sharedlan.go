package lab

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"

	"github.com/bootrig/bootrig/boards"
)

// DefaultBridge is the shared lab LAN's bridge device.
const DefaultBridge = "br0"

// SharedLAN is a lab network several emulated boards share, as a bench of
// real boards shares one switch: a Linux bridge holding the server's
// address and one tap per board enslaved to it. Each board's QEMU opens
// its own tap ([QEMU.Tap]) with its own MAC ([SharedLAN.MAC]); the bridge
// forwards between them and the server, and nowhere else.
type SharedLAN struct {
	Bridge string       // "br0"
	Addr   netip.Prefix // the server's address on the bridge: 192.168.7.1/24
	Taps   []string     // one per board: "tap0", "tap1", ...
}

// SharedLANFor is the shared LAN of n boards on a board's lab network.
func SharedLANFor(l boards.Netboot, n int) (SharedLAN, error) {
	one, err := LANFor(l, nil)
	if err != nil {
		return SharedLAN{}, err
	}
	if n < 1 {
		return SharedLAN{}, fmt.Errorf("shared lab LAN: %d boards, want at least one", n)
	}
	s := SharedLAN{Bridge: DefaultBridge, Addr: one.Addr}
	for i := range n {
		s.Taps = append(s.Taps, fmt.Sprintf("tap%d", i))
	}
	return s, nil
}

// MAC is the NIC address of the board on tap i: QEMU's prefix 52:54:00,
// then 0xb0 and i, distinct for each board of a LAN.
func (s SharedLAN) MAC(i int) string {
	return fmt.Sprintf("52:54:00:b0:%02x:%02x", i>>8&0xff, i&0xff)
}

// Setup brings lo up, creates the bridge with the server's address and
// every tap enslaved to it, all up. Run it inside a lab namespace (see
// [Inside], or a test's own network namespace): it changes the network of
// the namespace it runs in. Devices that exist already are reused, so
// Setup may run again.
func (s SharedLAN) Setup() error {
	if len(s.Taps) == 0 {
		return errors.New("shared lab LAN: no taps")
	}
	if err := loUp(); err != nil {
		return err
	}
	br, err := ensureBridge(s.Bridge)
	if err != nil {
		return err
	}
	for _, name := range s.Taps {
		tap, err := ensureTap(name)
		if err != nil {
			return err
		}
		if err := netlink.LinkSetMaster(tap, br); err != nil {
			return fmt.Errorf("lab LAN: enslave %s to %s: %w", name, s.Bridge, err)
		}
		if err := netlink.LinkSetUp(tap); err != nil {
			return fmt.Errorf("lab LAN: bring %s up: %w", name, err)
		}
	}
	return addressUp(br, s.Addr)
}

// ensureBridge is the bridge device name, created if missing, with the
// kernel's defaults: no spanning tree, so a port forwards as soon as its
// board's NIC is attached.
func ensureBridge(name string) (netlink.Link, error) {
	if link, err := netlink.LinkByName(name); err == nil {
		if link.Type() != "bridge" {
			return nil, fmt.Errorf("lab LAN: %s exists and is a %s, not a bridge", name, link.Type())
		}
		return link, nil
	}
	if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
		return nil, fmt.Errorf("lab LAN: create bridge %s: %w", name, err)
	}
	link, err := netlink.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("lab LAN: find new bridge %s: %w", name, err)
	}
	return link, nil
}
