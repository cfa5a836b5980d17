// Package netnstest runs test code in a private network namespace, so a
// test can bind the fixed ports a real client expects (69, 111, 2049)
// without touching the host's. It needs CAP_SYS_ADMIN (root, as CI has).
package netnstest

import (
	"fmt"
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
