package nfsroot

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/bootrig/bootrig/internal/oncrpc"
	"github.com/bootrig/bootrig/internal/ratelog"
)

// ErrServerClosed is returned by Serve and ServePacket after Shutdown.
var ErrServerClosed = oncrpc.ErrServerClosed

// Server serves one Export over NFSv3 and MOUNT v3 (RPC programs 100003
// and 100005) on the same listener.
type Server struct {
	Export *Export
	// Allow lists the client prefixes served; others are refused at
	// accept (TCP) or per call (UDP) and logged. Empty allows everyone.
	Allow    []netip.Prefix
	ReadOnly bool
	Log      *slog.Logger // nil: slog.Default()
	// NFSOverUDP answers NFS calls arriving over UDP (ServePacket); off,
	// they get PROG_UNAVAIL and only MOUNT is served there. A datagram's
	// source address is trivially forged, so the allow list means little
	// over UDP.
	NFSOverUDP bool
	// InsecurePorts serves calls from source ports >= 1024; off (as
	// kernel nfsd's "secure"), every call but NULL from one is refused
	// with AUTH_ERROR / AUTH_TOOWEAK.
	InsecurePorts bool
	// MaxInFlight bounds the calls served at once per connection
	// (default 16); Limits.InFlight when both are set.
	MaxInFlight int
	// Limits bound connections and the bytes of calls and replies held
	// (oncrpc's defaults where zero).
	Limits oncrpc.Limits
	// IdleTimeout closes a connection that sends nothing for this long
	// (default 15 minutes; a client reconnects transparently).
	IdleTimeout time.Duration
	// RootSquash serves uid 0 (and group 0) as the anonymous user
	// 65534, for exports that are not a board's root filesystem.
	RootSquash bool
	// Hooks watch the connections and calls that arrive.
	Hooks oncrpc.Hooks

	initOnce sync.Once
	verf     [8]byte // write verifier: changes with each server start
	rpc      *oncrpc.Server
	rl       *ratelog.Logger

	mu     sync.Mutex
	mounts map[mountEntry]struct{}
	debug  bool // log every call
}

type mountEntry struct{ host, dir string }

func (s *Server) init() {
	s.initOnce.Do(func() {
		if _, err := rand.Read(s.verf[:]); err != nil {
			binary.BigEndian.PutUint64(s.verf[:], uint64(time.Now().UnixNano()))
		}
		s.mounts = map[mountEntry]struct{}{}
		s.debug = s.log().Enabled(context.Background(), slog.LevelDebug)
		s.rl = ratelog.New(s.log(), ratelog.DefaultEvery)
		lim := s.Limits
		if lim.InFlight == 0 {
			lim.InFlight = s.MaxInFlight
		}
		s.rpc = &oncrpc.Server{
			Name: "nfs", Handler: oncrpc.HandlerFunc(s.serveRPC), Log: s.log(),
			MaxRecord: maxRecord, Limits: lim, IdleTimeout: s.IdleTimeout,
			// Room for a whole 1 MiB WRITE or READ in flight.
			SocketBuffer: 4 << 20,
			Admit:        s.admit, Inline: quick, Hooks: s.Hooks,
		}
	})
}

func (s *Server) server() *oncrpc.Server {
	s.init()
	return s.rpc
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
	ip := oncrpc.ClientAddr(addr).Addr()
	for _, p := range s.Allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// admit refuses a TCP client not in Allow at accept.
func (s *Server) admit(addr net.Addr) bool {
	if s.allowed(addr) {
		return true
	}
	s.refuse(addr, "connect")
	return false
}

func (s *Server) refuse(addr net.Addr, what string) {
	s.rl.Warn("nfs: refused client not in --allow", "client", addr.String(), "call", what)
}

// Serve accepts TCP connections on l and serves each until Shutdown;
// accept errors (out of descriptors and the like) are logged and
// retried. It always returns a non-nil error; after Shutdown,
// ErrServerClosed.
func (s *Server) Serve(l net.Listener) error { return s.server().Serve(l) }

// ServePacket answers RPC calls arriving as datagrams on pc (RPC over
// UDP: one call per datagram) until Shutdown: MOUNT, and NFS with
// NFSOverUDP.
func (s *Server) ServePacket(pc net.PacketConn) error { return s.server().ServePacket(pc) }

// Shutdown stops accepting, waits for calls in progress (until ctx is
// done) and closes every connection.
func (s *Server) Shutdown(ctx context.Context) error { return s.server().Shutdown(ctx) }
