package tftp

import (
	"net"
	"sync"
	"time"
)

// requestConn is the net.PacketConn pin/tftp reads requests from: it
// carries only requests the Server has checked and rewritten. pin/tftp
// never writes to it; transfers use their own sockets.
type requestConn struct {
	local net.Addr
	ch    chan datagram
	once  sync.Once
	done  chan struct{}
}

type datagram struct {
	b    []byte
	from *net.UDPAddr
}

func newRequestConn(local net.Addr) *requestConn {
	return &requestConn{local: local, ch: make(chan datagram, 64), done: make(chan struct{})}
}

// push queues a request; it drops it once the conn is closed.
func (c *requestConn) push(b []byte, from *net.UDPAddr) {
	select {
	case c.ch <- datagram{b, from}:
	case <-c.done:
	}
}

func (c *requestConn) ReadFrom(p []byte) (int, net.Addr, error) {
	select {
	case d := <-c.ch:
		return copy(p, d.b), d.from, nil
	case <-c.done:
		return 0, nil, net.ErrClosed
	}
}

func (c *requestConn) WriteTo(p []byte, _ net.Addr) (int, error) { return len(p), nil }

func (c *requestConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

func (c *requestConn) LocalAddr() net.Addr                { return c.local }
func (c *requestConn) SetDeadline(t time.Time) error      { return nil }
func (c *requestConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *requestConn) SetWriteDeadline(t time.Time) error { return nil }
