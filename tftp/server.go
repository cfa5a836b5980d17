package tftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	pin "github.com/pin/tftp/v3"

	"github.com/bootrig/bootrig/internal/ratelog"
)

// MaxBlockSize is the largest blksize RFC 2348 allows.
const MaxBlockSize = 65464

// Defaults for the zero Server limits.
const (
	DefaultMaxTransfers       = 128
	DefaultMaxClientTransfers = 16
	DefaultMaxWindowSize      = 64
	maxWindowSize             = 32768 // keeps ACK numbers unambiguous across rollover
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("tftp: server closed")

// Server serves the files below Root over TFTP. The zero value of every
// field but Root is usable. A Server serves one connection; do not change
// its fields after Serve is called.
type Server struct {
	// Root is the directory served. Names resolve only inside it; an
	// absolute name is taken relative to it, as tftpd-hpa -s does.
	Root string
	// Writable accepts write requests; without it they are refused with
	// TFTP error 2. An upload goes to a temporary file that is renamed
	// over the target only once the last block has arrived.
	Writable bool
	// Allow lists the client networks served; empty serves everyone.
	Allow []netip.Prefix
	// MaxBlockSize caps the blksize option (0: 65464, the RFC maximum).
	// The client's request is honoured up to this cap and not clamped to
	// the interface MTU: a client that asks for more than fits a frame
	// (U-Boot with CONFIG_IP_DEFRAG) does so on purpose.
	MaxBlockSize int
	// MaxWindowSize caps the windowsize option of RFC 7440 (0: 64).
	MaxWindowSize int
	// MaxTransfers caps the transfers in progress at once (0: 128), and
	// MaxClientTransfers those from one client address (0: 16). A request
	// over either is refused with TFTP error 0 "server busy", which
	// U-Boot answers by starting again.
	MaxTransfers       int
	MaxClientTransfers int
	// Timeout is how long to wait for an ACK or DATA before
	// retransmitting (0: 1s); Retries is how many times (0: 5).
	Timeout time.Duration
	Retries int
	// Logger receives one line per transfer, and lines about refusals,
	// at most one per cause every 10 seconds (nil: none).
	Logger *slog.Logger
	// Progress, when set, receives a progress line, redrawn with \r,
	// for transfers over 1 MiB. Give it a terminal.
	Progress io.Writer

	mu        sync.Mutex
	started   bool
	closed    bool
	conn      net.PacketConn
	inner     *pin.Server
	requests  *requestConn
	root      *os.Root
	transfers map[uint64]*transfer // admitted and not yet over
	clients   map[netip.Addr]int   // transfers per client address
	seq       atomic.Uint64
	refusals  ratelog.Logger
	progress  sync.Mutex
	sending   sync.WaitGroup // downloads the Server sends itself
	served    chan struct{}  // closed when the request loop is done
	stopOnce  sync.Once
	stopped   chan struct{} // closed when the last transfer is done
}

// ListenAndServe listens on the UDP address addr (see Listen) and serves.
func (s *Server) ListenAndServe(addr string) error {
	conn, err := Listen(addr)
	if err != nil {
		return err
	}
	return s.Serve(conn)
}

// Serve answers requests arriving on conn until Shutdown, when it
// returns ErrServerClosed. Each transfer runs on its own UDP port
// (RFC 1350 TIDs). A failing read on conn is logged and retried after
// a pause that grows to a second. Serve closes conn when it returns.
func (s *Server) Serve(conn net.PacketConn) error {
	defer conn.Close()
	if err := s.start(conn); err != nil {
		return err
	}
	defer close(s.served)
	go s.inner.Serve(s.requests)
	buf := make([]byte, 2048)
	var pause time.Duration
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("tftp: reading requests on %s: %w", conn.LocalAddr(), err)
			}
			pause = backoff(pause)
			s.refusals.Warn("tftp: reading requests failed, retrying",
				"addr", conn.LocalAddr(), "err", err, "pause", pause)
			time.Sleep(pause)
			continue
		}
		pause = 0
		if ua, ok := from.(*net.UDPAddr); ok {
			s.handle(buf[:n], unmap(ua.AddrPort()))
		}
	}
}

// backoff is the next pause after a failed read: 5 ms, doubling to 1 s.
func backoff(d time.Duration) time.Duration {
	return min(max(2*d, 5*time.Millisecond), time.Second)
}

// start sets the server up for conn, once.
func (s *Server) start(conn net.PacketConn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrServerClosed
	}
	if s.started {
		return errors.New("tftp: Serve called twice on one Server")
	}
	root, err := os.OpenRoot(s.Root)
	if err != nil {
		return fmt.Errorf("tftp: root directory: %w", err)
	}
	s.started, s.conn, s.root = true, conn, root
	s.transfers = make(map[uint64]*transfer)
	s.clients = make(map[netip.Addr]int)
	s.refusals.Log = s.Logger
	s.served = make(chan struct{})
	s.requests = newRequestConn(conn.LocalAddr())
	s.inner = pin.NewServer(s.serveRead, s.serveWrite)
	s.inner.SetHook(hook{s})
	// MTU clamping needs pin/tftp to read the listening socket itself;
	// here it only ever sees requests that passed our checks.
	s.inner.SetBlockSizeNegotiation(false)
	if s.MaxBlockSize > 0 {
		s.inner.SetBlockSize(min(s.MaxBlockSize, MaxBlockSize))
	}
	s.inner.SetTimeout(s.timeout())
	s.inner.SetRetries(s.retries())
	s.inner.SetBackoff(func(int) time.Duration { return 0 }) // Timeout is the wait
	return nil
}

func (s *Server) timeout() time.Duration { return cmp(s.Timeout, time.Second) }
func (s *Server) retries() int           { return cmp(s.Retries, 5) }

func cmp[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Shutdown stops accepting requests and waits for the transfers in
// progress to end. When ctx ends first it aborts them (each stops at its
// next block) and returns ctx.Err() without waiting further.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	started := s.started
	s.mu.Unlock()
	if !started {
		return nil
	}
	s.conn.Close()
	<-s.served
	s.stopOnce.Do(func() {
		s.stopped = make(chan struct{})
		go func() {
			s.inner.Shutdown()
			s.sending.Wait()
			s.releaseAll()
			s.root.Close()
			close(s.stopped)
		}()
	})
	select {
	case <-s.stopped:
		return nil
	case <-ctx.Done():
		s.abortAll()
		return ctx.Err()
	}
}

// abortAll closes the files and sockets of the transfers in progress,
// which makes each abort at its next block.
func (s *Server) abortAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.transfers {
		t.abort()
	}
}

// releaseAll releases the transfers pin/tftp never started.
func (s *Server) releaseAll() {
	s.mu.Lock()
	left := make([]*transfer, 0, len(s.transfers))
	for _, t := range s.transfers {
		left = append(left, t)
	}
	s.mu.Unlock()
	for _, t := range left {
		t.release()
		s.forget(t)
	}
}

// handle checks one request and either refuses it, sends the file
// itself (octet downloads), or hands it to pin/tftp with the file
// already opened inside the root.
func (s *Server) handle(p []byte, from netip.AddrPort) {
	r, err := parseRequest(p)
	if err == errNotRequest {
		return
	}
	if err == nil && !s.allowed(from.Addr()) {
		err = fmt.Errorf("%w: %s", ErrNotAllowed, from.Addr())
	}
	var t *transfer
	if err == nil {
		t, err = s.admit(r, from)
	}
	if err != nil {
		s.refuse(from, r.op(), r.name, err)
		return
	}
	if r.sentHere() {
		s.sending.Add(1)
		go s.send(t, r)
		return
	}
	s.requests.push(t.id, r.encode(token(t.id)), net.UDPAddrFromAddrPort(from))
}

func (s *Server) allowed(a netip.Addr) bool {
	if len(s.Allow) == 0 {
		return true
	}
	for _, p := range s.Allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// refuse answers a request with an ERROR packet and logs why, within
// the log's budget for that cause.
func (s *Server) refuse(to netip.AddrPort, op, name string, err error) {
	code, msg := refusal(err)
	// The message names the cause: the rate limit is per message.
	s.refusals.Warn("tftp: refused: "+cause(err), "client", to, "op", op, "file", name,
		"code", code, "err", err)
	s.conn.WriteTo(errorPacket(code, msg), net.UDPAddrFromAddrPort(to))
}

func (s *Server) log(level slog.Level, msg string, args ...any) {
	if s.Logger != nil {
		s.Logger.Log(context.Background(), level, msg, args...)
	}
}
