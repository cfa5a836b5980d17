package portmap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/bootrig/bootrig/internal/oncrpc"
)

// ErrServerClosed is returned by Serve, ServeUDP and ListenAndServe
// after Shutdown.
var ErrServerClosed = oncrpc.ErrServerClosed

// MaxRecord is the largest TCP record (all fragments) the server reads;
// a portmapper call is a few dozen bytes.
const MaxRecord = 64 << 10

// IdleTimeout closes TCP connections that send nothing for this long.
const IdleTimeout = 2 * time.Minute

// Server answers portmapper calls from a fixed table. Its own entries
// (program 100000 versions 2-4 on every transport it serves) are added
// to Mappings in answers. Do not change fields after serving starts.
type Server struct {
	Mappings []Mapping
	// Logger gets a debug line per call and warnings, one line per
	// cause every few seconds (nil: none).
	Logger *slog.Logger
	// Now is the clock GETTIME reads (nil: time.Now).
	Now func() time.Time
	// Hooks watch the calls and connections that arrive.
	Hooks oncrpc.Hooks

	once sync.Once
	rpc  *oncrpc.Server
	mu   sync.Mutex
	self []Mapping
}

func (s *Server) server() *oncrpc.Server {
	s.once.Do(func() {
		s.rpc = &oncrpc.Server{Name: "portmap", Handler: oncrpc.HandlerFunc(s.serveRPC), Log: s.Logger,
			MaxRecord: MaxRecord, IdleTimeout: IdleTimeout, Hooks: s.Hooks,
			// Every call is a lookup in a table in memory.
			Inline: func(oncrpc.Header) bool { return true }}
	})
	return s.rpc
}

// ListenAndServe serves TCP and UDP on addr (e.g. ":111") until
// Shutdown or until either fails.
func (s *Server) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return listenError(addr, err)
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		l.Close()
		return listenError(addr, err)
	}
	errc := make(chan error, 2)
	go func() { errc <- s.Serve(l) }()
	go func() { errc <- s.ServeUDP(pc) }()
	err = <-errc
	l.Close()
	pc.Close()
	<-errc
	return err
}

// listenError says what to do about a port that is taken or privileged.
func listenError(addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("portmap: %s is taken, most likely by the system's rpcbind "+
			"(stop it: systemctl stop rpcbind.socket rpcbind): %w", addr, err)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("portmap: %s needs privileges: run as root or "+
			"`sudo setcap cap_net_bind_service=+ep $(which bootrig)`: %w", addr, err)
	}
	return fmt.Errorf("portmap: %w", err)
}

// addSelf lists the portmapper itself on prot and port.
func (s *Server) addSelf(prot Protocol, port int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for v := uint32(2); v <= 4; v++ {
		s.self = append(s.self, Mapping{Program, v, prot, uint16(port)})
	}
}

// table is the mappings answers are made from.
func (s *Server) table() []Mapping {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(append([]Mapping(nil), s.self...), s.Mappings...)
}

func (s *Server) serveRPC(r *oncrpc.Request) []byte {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	if s.Logger != nil {
		s.Logger.Debug("portmap: call", "client", r.Remote, "prog", r.Prog, "vers", r.Vers, "proc", r.Proc)
	}
	t := transport{prot: TCP, local: r.Local}
	if r.Transport == oncrpc.UDP {
		t.prot = UDP
	}
	return answer(r.CallMsg, t, s.table(), now)
}

// Serve answers calls on the TCP listener l until Shutdown; accept
// errors are logged and retried.
func (s *Server) Serve(l net.Listener) error {
	if a, ok := l.Addr().(*net.TCPAddr); ok {
		s.addSelf(TCP, a.Port)
	}
	return s.server().Serve(l)
}

// ServeUDP answers calls arriving on the UDP socket c until Shutdown.
func (s *Server) ServeUDP(c net.PacketConn) error {
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
		s.addSelf(UDP, a.Port)
	}
	return s.server().ServePacket(c)
}

// Shutdown closes the listeners, sockets and connections and waits for
// their goroutines, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.server().Shutdown(ctx)
}
