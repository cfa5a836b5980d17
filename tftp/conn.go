package tftp

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// blockingConn is a transfer's UDP socket, connected to the client and
// used with blocking system calls: a block costs one send(2) and one
// recv(2) that sleeps in the kernel until the ACK arrives or the
// receive timeout passes, as a C server's would. Go's netpoller (a
// non-blocking recv that fails with EAGAIN, epoll_wait, a wake-up of the
// goroutine, the recv again, and a deadline reset per block) costs more
// per round trip than the round trip on loopback. The transfer holds an
// OS thread while it waits; MaxTransfers bounds the threads.
type blockingConn struct {
	fd      int
	timeout time.Duration // the receive timeout set on fd

	mu     sync.Mutex
	closed bool
}

// dialBlocking opens a UDP socket connected to the client.
func dialBlocking(to netip.AddrPort) (*blockingConn, error) {
	var sa unix.Sockaddr = &unix.SockaddrInet6{Port: int(to.Port()), Addr: to.Addr().As16()}
	family := unix.AF_INET6
	if to.Addr().Is4() {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: int(to.Port()), Addr: to.Addr().As4()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("connect to %s: %w", to, err)
	}
	return &blockingConn{fd: fd}, nil
}

// Write sends one packet.
func (c *blockingConn) Write(p []byte) (int, error) {
	for {
		n, err := unix.Write(c.fd, p)
		if err != unix.EINTR {
			return n, wrapErrno("send", err)
		}
	}
}

// Writev sends one packet made of hdr and then data, in one writev(2):
// the kernel copies data straight from where it is (a mapped file)
// into the datagram.
func (c *blockingConn) Writev(hdr, data []byte) (int, error) {
	for {
		n, err := unix.Writev(c.fd, [][]byte{hdr, data})
		if err != unix.EINTR {
			return n, wrapErrno("writev", err)
		}
	}
}

// Read receives one packet, waiting up to the receive timeout; when it
// passes, the error is os.ErrDeadlineExceeded.
func (c *blockingConn) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(c.fd, p) // connected: no address to convert
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, os.ErrDeadlineExceeded
		case err == nil && c.isClosed():
			return 0, os.ErrClosed // shut down by Close
		}
		return n, wrapErrno("recv", err)
	}
}

// SetReadTimeout sets how long Read waits; it costs a system call only
// when the timeout changes.
func (c *blockingConn) SetReadTimeout(d time.Duration) error {
	if d == c.timeout {
		return nil
	}
	c.timeout = d
	tv := unix.NsecToTimeval(max(d, time.Microsecond).Nanoseconds())
	return wrapErrno("setsockopt SO_RCVTIMEO", unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv))
}

// Shutdown wakes a Read blocked in the kernel (from another goroutine);
// Close then releases the descriptor.
func (c *blockingConn) Shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		unix.Shutdown(c.fd, unix.SHUT_RDWR)
	}
}

func (c *blockingConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Close releases the socket; only the transfer's goroutine calls it.
func (c *blockingConn) Close() error {
	c.Shutdown()
	return unix.Close(c.fd)
}

func wrapErrno(op string, err error) error {
	if err == nil {
		return nil
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return os.NewSyscallError(op, errno)
	}
	return err
}
