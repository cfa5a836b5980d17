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
)

// MaxBlockSize is the largest blksize RFC 2348 allows.
const MaxBlockSize = 65464

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("tftp: server closed")

// Server serves the files below Root over TFTP. The zero value of every
// field but Root is usable. A Server serves one connection; do not change
// its fields after Serve is called.
type Server struct {
	// Root is the directory served. Names resolve only inside it.
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
	// Timeout is how long to wait for an ACK or DATA before
	// retransmitting (0: 1s); Retries is how many times (0: 5).
	Timeout time.Duration
	Retries int
	// Logger receives one line per transfer and per refusal (nil: none).
	Logger *slog.Logger
	// Progress, when set, receives a progress line, redrawn with \r,
	// for transfers over 1 MiB. Give it a terminal.
	Progress io.Writer

	mu       sync.Mutex
	started  bool
	closed   bool
	conn     net.PacketConn
	inner    *pin.Server
	requests *requestConn
	root     *os.Root
	pending  map[string][]*pending
	active   map[string]*transfer
	seq      atomic.Uint64
	progress sync.Mutex
	served   chan struct{} // closed when the request loop is done
	stopOnce sync.Once
	stopped  chan struct{} // closed when the last transfer is done
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
// (RFC 1350 TIDs). Serve closes conn when it returns.
func (s *Server) Serve(conn net.PacketConn) error {
	defer conn.Close()
	if err := s.start(conn); err != nil {
		return err
	}
	defer close(s.served)
	go s.inner.Serve(s.requests)
	buf := make([]byte, 2048)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("tftp: reading requests on %s: %w", conn.LocalAddr(), err)
		}
		if ua, ok := from.(*net.UDPAddr); ok {
			s.handle(conn, buf[:n], ua.AddrPort())
		}
	}
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
	s.pending = make(map[string][]*pending)
	s.active = make(map[string]*transfer)
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
	s.inner.SetTimeout(cmp(s.Timeout, time.Second))
	s.inner.SetRetries(cmp(s.Retries, 5))
	s.inner.SetBackoff(func(int) time.Duration { return 0 }) // Timeout is the wait
	return nil
}

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
			s.closePending()
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

// abortAll closes the files of the transfers in progress, which makes
// pin/tftp abort them at the next block.
func (s *Server) abortAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.active {
		t.file.Close()
	}
}

// closePending closes files opened for requests pin/tftp never started.
func (s *Server) closePending() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, ps := range s.pending {
		for _, p := range ps {
			p.discard(s.root)
		}
		delete(s.pending, k)
	}
}

// handle checks one request and either refuses it or hands it to
// pin/tftp with the file already opened inside the root.
func (s *Server) handle(conn net.PacketConn, p []byte, from netip.AddrPort) {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	r, err := parseRequest(p)
	if err == errNotRequest {
		return
	}
	if err != nil {
		s.refuse(conn, from, r, err)
		return
	}
	if !s.allowed(from.Addr()) {
		s.refuse(conn, from, r, fmt.Errorf("%w: %s", ErrNotAllowed, from.Addr()))
		return
	}
	var pd *pending
	if r.write {
		pd, err = s.prepareWrite(r)
	} else {
		pd, err = s.prepareRead(r)
	}
	if err != nil {
		s.refuse(conn, from, r, err)
		return
	}
	s.mu.Lock()
	key := transferKey(from, r.name)
	s.pending[key] = append(s.pending[key], pd)
	s.mu.Unlock()
	s.requests.push(r.encode(), net.UDPAddrFromAddrPort(from))
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

func (s *Server) prepareRead(r request) (*pending, error) {
	f, size, err := openRead(s.root, r.name)
	if err != nil {
		return nil, err
	}
	return &pending{file: f, size: size}, nil
}

func (s *Server) prepareWrite(r request) (*pending, error) {
	if !s.Writable {
		return nil, ErrReadOnly
	}
	f, tmp, err := createTemp(s.root, r.name, s.seq.Add(1))
	if err != nil {
		return nil, err
	}
	return &pending{file: f, tmp: tmp, size: -1}, nil
}

// refuse answers a request with an ERROR packet and logs why.
func (s *Server) refuse(conn net.PacketConn, from netip.AddrPort, r request, err error) {
	code := refusalCode(err)
	msg := "access violation"
	switch code {
	case codeNotFound:
		msg = "file not found"
	case codeIllegalOp:
		msg = err.Error()
	case codeAccess:
		if errors.Is(err, ErrReadOnly) {
			msg = "server is read-only"
		}
	}
	op := "read"
	if r.write {
		op = "write"
	}
	s.log(slog.LevelWarn, "tftp: refused", "client", from, "op", op, "file", r.name, "code", code, "err", err)
	conn.WriteTo(errorPacket(code, msg), net.UDPAddrFromAddrPort(from))
}

func (s *Server) log(level slog.Level, msg string, args ...any) {
	if s.Logger != nil {
		s.Logger.Log(context.Background(), level, msg, args...)
	}
}

// pending is a request that passed the checks and waits for pin/tftp to
// start its transfer: the file is already open.
type pending struct {
	file *os.File
	tmp  string // uploads: the temporary name below the root
	size int64  // downloads: the file size; uploads: -1
}

func (p *pending) discard(root *os.Root) {
	p.file.Close()
	if p.tmp != "" {
		root.Remove(p.tmp)
	}
}

func transferKey(client netip.AddrPort, name string) string {
	return client.String() + "\x00" + name
}

// take removes and returns the pending request for a transfer pin/tftp
// has started.
func (s *Server) take(client netip.AddrPort, name string) (*pending, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := transferKey(client, name)
	ps := s.pending[key]
	if len(ps) == 0 {
		return nil, fmt.Errorf("tftp: no checked request for %s from %s", name, client)
	}
	p := ps[0]
	if len(ps) == 1 {
		delete(s.pending, key)
	} else {
		s.pending[key] = ps[1:]
	}
	return p, nil
}
