package tftp

import (
	"net"
	"sync"
	"time"
)

// requestConn is the net.PacketConn pin/tftp reads requests from: it
// carries only requests the Server has admitted and rewritten. pin/tftp
// never writes to it; transfers use their own sockets.
//
// pin/tftp reads one request, starts its transfer and only then reads
// the next; when it cannot start one it reports an error without a
// name. failed tells which transfer that was: the last one read.
type requestConn struct {
	local net.Addr
	ch    chan datagram
	once  sync.Once
	done  chan struct{}

	mu   sync.Mutex
	last uint64 // transfer of the request pin/tftp read last; 0 after an error
}

type datagram struct {
	id   uint64
	b    []byte
	from *net.UDPAddr
}

func newRequestConn(local net.Addr) *requestConn {
	return &requestConn{local: local, ch: make(chan datagram, 64), done: make(chan struct{})}
}

// push queues the request of transfer id; it drops it once the conn is
// closed.
func (c *requestConn) push(id uint64, b []byte, from *net.UDPAddr) {
	select {
	case c.ch <- datagram{id, b, from}:
	case <-c.done:
	}
}

// failed returns the transfer whose request pin/tftp read last, once.
func (c *requestConn) failed() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.last
	c.last = 0
	return id
}

func (c *requestConn) ReadFrom(p []byte) (int, net.Addr, error) {
	var d datagram
	select {
	case d = <-c.ch:
	case <-c.done:
	}
	c.mu.Lock()
	c.last = d.id
	c.mu.Unlock()
	if d.id == 0 {
		return 0, nil, net.ErrClosed
	}
	return copy(p, d.b), d.from, nil
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
