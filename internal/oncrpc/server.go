package oncrpc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bootrig/bootrig/internal/ratelog"
)

// ErrServerClosed is returned by Serve and ServePacket after Shutdown.
var ErrServerClosed = errors.New("oncrpc: server closed")

// Transport is how a call arrived.
type Transport uint8

// The transports a Server serves.
const (
	TCP Transport = iota + 1
	UDP
)

// Request is one call being served.
type Request struct {
	*CallMsg
	Remote    net.Addr
	Local     netip.Addr // the address the call was sent to, when known
	Transport Transport
}

// Handler answers calls: it returns the whole reply message (an
// AcceptedReply's bytes, Accepted, Denied), or nil to send none. The
// arguments alias a buffer that is reused once ServeRPC returns.
type Handler interface {
	ServeRPC(r *Request) []byte
}

// HandlerFunc is a function used as a Handler.
type HandlerFunc func(r *Request) []byte

// ServeRPC calls f(r).
func (f HandlerFunc) ServeRPC(r *Request) []byte { return f(r) }

// Hooks watch what a Server receives; they must not block.
type Hooks struct {
	Conn func(remote net.Addr)           // a TCP connection was accepted (before Admit)
	Call func(h Header, remote net.Addr) // a call arrived (before it is served)
}

// Limits bound what clients can make a Server hold. Zero fields take the
// defaults.
type Limits struct {
	Conns          int // TCP connections in all (64)
	ConnsPerClient int // TCP connections from one address (8)
	InFlight       int // calls served at once on one connection (16)
	// QueuedBytes bounds the bytes of calls and replies held in memory
	// in all (64 MiB): each call holds its own size plus MaxRecord for
	// its reply while it is served, and the reply's size until it is
	// sent. A connection that would go over waits, unread.
	QueuedBytes int
}

// Server serves ONC RPC over TCP (record marking) and UDP.
type Server struct {
	Name    string // in log lines: "nfs", "portmap"
	Handler Handler
	Log     *slog.Logger // nil: none
	// MaxRecord is the largest TCP record read and the room reserved for
	// each reply (default 64 KiB).
	MaxRecord int
	Limits    Limits
	// SocketBuffer sets each TCP connection's send and receive buffer
	// sizes (0: the system's).
	SocketBuffer int
	// IdleTimeout closes a connection that sends nothing for this long
	// (default 15 minutes).
	IdleTimeout time.Duration
	// Admit says whether a client is served; a refused TCP client is
	// disconnected at accept, a refused datagram dropped (nil: everyone).
	Admit func(remote net.Addr) bool
	// Inline says which calls are quick (no long waits for a disk or a
	// lock) and may so be served on the goroutine that read them from a
	// TCP connection when no other call is in flight on it: a call that
	// arrives meanwhile is read once it is answered. nil: every call
	// is handed to a worker.
	Inline func(h Header) bool
	Hooks  Hooks

	initOnce sync.Once
	rl       *ratelog.Logger
	panics   atomic.Uint64

	mu        sync.Mutex
	budget    *sync.Cond // signalled when queued drops or on Shutdown
	closed    bool
	endpoints map[io.Closer]struct{} // listeners and packet sockets
	conns     map[net.Conn]struct{}
	perClient map[netip.Addr]int
	queued    int
	blocked   int           // connections not read because of a limit
	active    int           // calls being served
	idle      chan struct{} // closed when active drops to 0 after Shutdown
	wg        sync.WaitGroup
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.rl = ratelog.New(s.Log, ratelog.DefaultEvery)
		s.budget = sync.NewCond(&s.mu)
		s.endpoints = map[io.Closer]struct{}{}
		s.conns = map[net.Conn]struct{}{}
		s.perClient = map[netip.Addr]int{}
	})
}

func (s *Server) maxRecord() int    { return orDefault(s.MaxRecord, 64<<10) }
func (s *Server) inFlight() int     { return orDefault(s.Limits.InFlight, 16) }
func (s *Server) maxQueued() int    { return orDefault(s.Limits.QueuedBytes, 64<<20) }
func (s *Server) maxConns() int     { return orDefault(s.Limits.Conns, 64) }
func (s *Server) maxPerClient() int { return orDefault(s.Limits.ConnsPerClient, 8) }

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Panics is how many calls panicked in the Handler (each was answered
// SYSTEM_ERR and logged).
func (s *Server) Panics() uint64 { return s.panics.Load() }

// Answer serves one message as Serve and ServePacket do each record and
// datagram: it parses the call, runs the hooks and the Handler, and
// returns the reply (nil: none), which the caller may hand to Recycle
// once done with it. r carries where it came from.
func (s *Server) Answer(msg []byte, r Request) []byte {
	s.init()
	c, err := ParseCall(msg)
	if err != nil {
		var rj *Rejection
		if errors.As(err, &rj) {
			s.rl.Warn(s.Name+": call rejected", "client", addrString(r.Remote), "why", rj.Cause)
			return rj.Reply
		}
		s.rl.Warn(s.Name+": message is not an RPC call; dropped", "client", addrString(r.Remote), "bytes", len(msg))
		return nil
	}
	if s.Hooks.Call != nil {
		s.Hooks.Call(c.Header, r.Remote)
	}
	r.CallMsg = c
	return s.serve(&r)
}

// Recycle returns a reply from Answer to the pool of large buffers it
// may have come from (Serve and ServePacket do so after sending).
func Recycle(reply []byte) { putBuf(reply) }

func (s *Server) serve(r *Request) (reply []byte) {
	defer func() {
		if p := recover(); p != nil {
			s.panics.Add(1)
			if s.Log != nil {
				s.Log.Error(s.Name+": panic serving call", "prog", r.Prog, "proc", r.Proc, "panic", p, "stack", string(debug.Stack()))
			}
			reply = Accepted(r.XID, SystemErr)
		}
	}()
	return s.Handler.ServeRPC(r)
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// addrOf is a net.Addr's IP, unmapped; invalid when it has none.
func addrOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort()
	case *net.UDPAddr:
		return a.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(addrString(a))
	return ap
}

// ClientAddr is a client's IP and port from its net.Addr (zero when it
// has none).
func ClientAddr(a net.Addr) netip.AddrPort {
	ap := addrOf(a)
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// Stats is what a Server holds at one moment.
type Stats struct {
	Conns       int // TCP connections served
	Active      int // calls being served
	QueuedBytes int // bytes of calls and replies held (see Limits)
	Blocked     int // connections not read until a call is answered or replies drain
}

// Stats says what the server holds now.
func (s *Server) Stats() Stats {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Conns: len(s.conns), Active: s.active, QueuedBytes: s.queued, Blocked: s.blocked}
}

// Shutdown stops accepting, waits for calls in progress (until ctx is
// done), closes every connection and waits for their goroutines.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	s.closed = true
	for l := range s.endpoints {
		l.Close()
	}
	s.budget.Broadcast()
	done := make(chan struct{})
	if s.active == 0 {
		close(done)
	} else {
		s.idle = done
	}
	s.mu.Unlock()
	err := wait(ctx, done)
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	all := make(chan struct{})
	go func() { s.wg.Wait(); close(all) }()
	if e := wait(ctx, all); err == nil {
		err = e
	}
	return err
}

func wait(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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

// track registers a listener or packet socket for Shutdown to close;
// false after Shutdown.
func (s *Server) track(l io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.endpoints[l] = struct{}{}
	return true
}

func (s *Server) untrack(l io.Closer) {
	s.mu.Lock()
	delete(s.endpoints, l)
	s.mu.Unlock()
	l.Close()
}

// loop registers l for Shutdown and calls next until Shutdown: next's
// errors go to retry.
func (s *Server) loop(l io.Closer, addr net.Addr, what string, next func() error) error {
	s.init()
	if !s.track(l) {
		l.Close()
		return ErrServerClosed
	}
	defer s.untrack(l)
	var delay time.Duration
	for {
		if err := next(); err != nil {
			if err := s.retry(err, &delay, what, addr); err != nil {
				return err
			}
			continue
		}
		delay = 0
	}
}

// retry says what a failed Accept or ReadFrom means: after Shutdown, or
// on a closed socket, the error Serve returns; otherwise (out of
// descriptors and the like) nil, once it has logged and waited, doubling
// the wait from 5 ms up to 1 s.
func (s *Server) retry(err error, delay *time.Duration, what string, addr net.Addr) error {
	if s.isClosed() {
		return ErrServerClosed
	}
	if errors.Is(err, net.ErrClosed) {
		return err
	}
	*delay = min(max(2**delay, 5*time.Millisecond), time.Second)
	s.rl.Warn(s.Name+": "+what+" failed; retrying", "addr", addr.String(), "err", err, "in", *delay)
	time.Sleep(*delay)
	return nil
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// acquire takes n bytes of the queued-bytes budget, waiting while the
// budget is spent (a lone call larger than the whole budget still goes);
// false after Shutdown.
func (s *Server) acquire(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed && s.queued > 0 && s.queued+n > s.maxQueued() {
		s.rl.Warn(s.Name+": queued bytes at the limit; not reading calls until replies drain", "queued", s.queued, "limit", s.maxQueued())
		s.blocked++
		for !s.closed && s.queued > 0 && s.queued+n > s.maxQueued() {
			s.budget.Wait()
		}
		s.blocked--
	}
	if s.closed {
		return false
	}
	s.queued += n
	return true
}

func (s *Server) release(n int) {
	if n == 0 {
		return
	}
	s.mu.Lock()
	s.queued -= n
	s.mu.Unlock()
	s.budget.Broadcast()
}
