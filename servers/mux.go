package servers

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/bootrig/bootrig/internal/ratelog"
	"github.com/bootrig/bootrig/tftp"
)

// A mux splits what arrives on one port among the servers of a farm's
// boards by the client's IP address: each board's server reads its own
// route, as if it had the port to itself, and a client that is no
// board's is refused (closed, or its datagram dropped) and logged.
type mux struct {
	name    string // the server, for the log
	refused *ratelog.Logger
	// answer, if set, is the reply to a refused datagram (nil: none).
	answer func([]byte) []byte
}

func newMux(k Kind, log *slog.Logger) mux {
	m := mux{name: k.String(), refused: ratelog.New(log, ratelog.DefaultEvery)}
	if k == TFTPServer { // as tftp.Server answers a client its Allow refuses
		m.answer = tftp.Refusal
	}
	return m
}

// clientIP is addr's IP address, IPv4 unmapped.
func clientIP(addr net.Addr) netip.Addr {
	switch a := addr.(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// route is what one board's server reads: a net.Listener and a
// net.PacketConn fed by the mux. Closing it closes neither the port
// nor another board's route.
type route struct {
	local   net.Addr
	conns   chan net.Conn
	packets chan packet
	write   func([]byte, net.Addr) (int, error)
	done    chan struct{}
	once    sync.Once
}

type packet struct {
	b    []byte
	from net.Addr
}

// newRoute is a route of a port at local; write sends its replies
// (nil for a TCP port's).
func newRoute(local net.Addr, write func([]byte, net.Addr) (int, error)) *route {
	return &route{local: local, write: write, conns: make(chan net.Conn, 16), packets: make(chan packet, 64), done: make(chan struct{})}
}

func (r *route) Accept() (net.Conn, error) {
	select {
	case c := <-r.conns:
		return c, nil
	case <-r.done:
		return nil, net.ErrClosed
	}
}

func (r *route) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case p := <-r.packets:
		return copy(b, p.b), p.from, nil
	case <-r.done:
		return 0, nil, net.ErrClosed
	}
}

func (r *route) WriteTo(b []byte, to net.Addr) (int, error) { return r.write(b, to) }
func (r *route) Addr() net.Addr                             { return r.local }
func (r *route) LocalAddr() net.Addr                        { return r.local }
func (r *route) Close() error                               { r.once.Do(func() { close(r.done) }); return nil }

// A route has no deadlines of its own: its server stops reading by
// closing it.
func (r *route) SetDeadline(time.Time) error      { return nil }
func (r *route) SetReadDeadline(time.Time) error  { return nil }
func (r *route) SetWriteDeadline(time.Time) error { return nil }

// accept hands l's connections to routes until l is closed.
func (m mux) accept(l net.Listener, routes map[netip.Addr]*route) error {
	var pause time.Duration
	for {
		c, err := l.Accept()
		if errors.Is(err, net.ErrClosed) {
			return err
		}
		if m.failed(&pause, "accept", err) {
			continue
		}
		r := routes[clientIP(c.RemoteAddr())]
		if r == nil {
			m.refused.Warn(m.name+": refused a client that is no board of the farm", "client", c.RemoteAddr())
			c.Close()
			continue
		}
		select {
		case r.conns <- c:
		case <-r.done:
			c.Close()
		default:
			m.refused.Warn(m.name+": dropped a connection: the board's server is not accepting", "client", c.RemoteAddr())
			c.Close()
		}
	}
}

// read hands pc's datagrams to routes until pc is closed; a route's
// replies go out through pc.
func (m mux) read(pc net.PacketConn, routes map[netip.Addr]*route) error {
	var pause time.Duration
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return err
		}
		if m.failed(&pause, "read", err) {
			continue
		}
		r := routes[clientIP(from)]
		if r == nil {
			m.refused.Warn(m.name+": refused a client that is no board of the farm", "client", from)
			if m.answer != nil {
				if reply := m.answer(buf[:n]); reply != nil {
					pc.WriteTo(reply, from)
				}
			}
			continue
		}
		select {
		case r.packets <- packet{append([]byte(nil), buf[:n]...), from}:
		case <-r.done:
		default: // the board's server is behind: UDP may drop
		}
	}
}

// failed reports whether err is a failed accept or read (out of
// descriptors, say); it logs it and waits, longer each time up to a
// second, as oncrpc's loop does. A success resets the wait.
func (m mux) failed(pause *time.Duration, what string, err error) bool {
	if err == nil {
		*pause = 0
		return false
	}
	*pause = min(max(2**pause, 5*time.Millisecond), time.Second)
	m.refused.Warn(m.name+": "+what+" failed, retrying", "err", err, "pause", *pause)
	time.Sleep(*pause)
	return true
}
