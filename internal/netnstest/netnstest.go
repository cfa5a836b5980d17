// Package netnstest runs test code in a private network namespace, so a
// test can bind the fixed ports a real client expects (69, 111, 2049)
// without touching the host's. It needs CAP_SYS_ADMIN (root, as CI has).
package netnstest

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Run runs f on an OS thread of its own in a new network namespace with
// lo up. Sockets f opens live in that namespace, and so do the processes
// it starts (they are forked from the thread). The thread is never
// unlocked, so it exits with its goroutine and the namespace goes with it.
func Run(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
			return
		}
		lo, err := netlink.LinkByName("lo")
		if err == nil {
			err = netlink.LinkSetUp(lo)
		}
		if err != nil {
			errc <- fmt.Errorf("bringing lo up: %w", err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// FromItself makes what this network namespace sends to ip, a loopback
// address other than 127.0.0.1, come from ip: a local route with ip as
// its source. Clients connecting to 127.0.0.2 and 127.0.0.3 then reach
// a server on all addresses from two addresses, as two boards do. Call
// it inside the namespace (Run's f, or Isolate's child).
func FromItself(ip netip.Addr) error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	a := net.IP(ip.AsSlice())
	err = netlink.RouteReplace(&netlink.Route{LinkIndex: lo.Attrs().Index, Dst: &net.IPNet{IP: a, Mask: net.CIDRMask(ip.BitLen(), ip.BitLen())},
		Src: a, Table: unix.RT_TABLE_LOCAL, Type: unix.RTN_LOCAL, Scope: netlink.SCOPE_HOST})
	if err != nil {
		return fmt.Errorf("route to %s from itself: %w", ip, err)
	}
	return nil
}
