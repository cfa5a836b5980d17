package nfsroot

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// ErrServerClosed is returned by Serve and ServePacket after Shutdown.
var ErrServerClosed = errors.New("nfsroot: server closed")

// Server serves one Export over NFSv3 and MOUNT v3 (RPC programs 100003
// and 100005) on the same listener.
type Server struct {
	Export *Export
	// Allow lists the client prefixes served; others are refused at
	// accept (TCP) or per call (UDP) and logged. Empty allows everyone.
	Allow    []netip.Prefix
	ReadOnly bool
	Log      *slog.Logger // nil: slog.Default()
	// MaxInFlight bounds the calls served at once per connection
	// (default 16).
	MaxInFlight int
	// IdleTimeout closes a connection that sends nothing for this long
	// (default 15 minutes; a client reconnects transparently).
	IdleTimeout time.Duration
	// RootSquash serves uid 0 (and group 0) as the anonymous user
	// 65534, for exports that are not a board's root filesystem.
	RootSquash bool

	initOnce sync.Once
	verf     [8]byte // write verifier: changes with each server start

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	packets   map[net.PacketConn]struct{}
	conns     map[net.Conn]struct{}
	active    int           // calls being served
	idle      chan struct{} // closed when active drops to 0 after Shutdown
	mounts    map[mountEntry]struct{}
	refused   atomic.Uint64
	panics    atomic.Uint64 // calls that panicked (answered SYSTEM_ERR)
	debug     bool          // log every call
}

type mountEntry struct{ host, dir string }

func (s *Server) init() {
	s.initOnce.Do(func() {
		if _, err := rand.Read(s.verf[:]); err != nil {
			binary.BigEndian.PutUint64(s.verf[:], uint64(time.Now().UnixNano()))
		}
		s.listeners = map[net.Listener]struct{}{}
		s.packets = map[net.PacketConn]struct{}{}
		s.conns = map[net.Conn]struct{}{}
		s.mounts = map[mountEntry]struct{}{}
		s.debug = s.log().Enabled(context.Background(), slog.LevelDebug)
	})
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// allowed reports whether addr may use the server.
func (s *Server) allowed(addr net.Addr) bool {
	if len(s.Allow) == 0 {
		return true
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range s.Allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (s *Server) refuse(addr net.Addr, what string) {
	n := s.refused.Add(1)
	if n <= 100 || n%1000 == 0 {
		s.log().Warn("nfs: refused client not in --allow", "client", addr.String(), "call", what, "refused", n)
	}
}

// Serve accepts TCP connections on l and serves each until Shutdown. It
// always returns a non-nil error; after Shutdown, ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of file descriptors and the like: back off, go on.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log().Warn("nfs: accept failed; retrying", "addr", l.Addr().String(), "err", err, "in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if !s.allowed(c.RemoteAddr()) {
			s.refuse(c.RemoteAddr(), "connect")
			c.Close()
			continue
		}
		if !s.track(c) {
			c.Close()
			return ErrServerClosed
		}
		if tc, ok := c.(*net.TCPConn); ok {
			// Room for a whole 1 MiB WRITE or READ in flight.
			tc.SetReadBuffer(4 << 20)
			tc.SetWriteBuffer(4 << 20)
		}
		go s.serveConn(c)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// serveConn reads record-marked calls from c and answers them, up to
// MaxInFlight at a time; replies may go out in any order (RPC matches
// them by xid).
func (s *Server) serveConn(c net.Conn) {
	defer s.untrack(c)
	defer c.Close()
	limit := s.MaxInFlight
	if limit <= 0 {
		limit = 16
	}
	sem := make(chan struct{}, limit)
	var wmu sync.Mutex
	var wg sync.WaitGroup
	defer wg.Wait()
	idle := s.IdleTimeout
	if idle <= 0 {
		idle = 15 * time.Minute
	}
	br := bufio.NewReaderSize(c, 64<<10)
	for {
		c.SetReadDeadline(time.Now().Add(idle))
		rec, err := readRecord(br)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && err.Error() != "EOF" {
				s.log().Debug("nfs: connection closed", "client", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		sem <- struct{}{}
		if !s.begin() {
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done(); s.end() }()
			reply := s.handle(rec, c.RemoteAddr())
			putBuf(rec)
			if reply == nil {
				return
			}
			defer putBuf(reply)
			var mark [4]byte
			binary.BigEndian.PutUint32(mark[:], 0x80000000|uint32(len(reply)))
			out := net.Buffers{mark[:], reply}
			wmu.Lock()
			defer wmu.Unlock()
			c.SetWriteDeadline(time.Now().Add(time.Minute))
			if _, err := out.WriteTo(c); err != nil {
				c.Close()
			}
		}()
	}
}

// ServePacket answers RPC calls arriving as datagrams on pc (RPC over
// UDP: one call per datagram) until Shutdown.
func (s *Server) ServePacket(pc net.PacketConn) error {
	s.init()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		pc.Close()
		return ErrServerClosed
	}
	s.packets[pc] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.packets, pc)
		s.mu.Unlock()
		pc.Close()
	}()
	buf := make([]byte, 65536)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			return err
		}
		if !s.allowed(addr) {
			s.refuse(addr, "udp")
			continue
		}
		if !s.begin() {
			return ErrServerClosed
		}
		reply := s.handleVia(append([]byte(nil), buf[:n]...), addr, maxUDPData)
		if reply != nil && len(reply) <= 65507 {
			pc.WriteTo(reply, addr)
		}
		s.end()
	}
}

// Shutdown stops accepting, waits for calls in progress (until ctx is
// done) and closes every connection.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
	for pc := range s.packets {
		pc.Close()
	}
	done := make(chan struct{})
	if s.active == 0 {
		close(done)
	} else {
		s.idle = done
	}
	s.mu.Unlock()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	return err
}

// begin counts a call in; false after Shutdown.
func (s *Server) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.active++
	return true
}

func (s *Server) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.active == 0 && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
}
