package portmap

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
)

// ErrServerClosed is returned by Serve, ServeUDP and ListenAndServe
// after Shutdown.
var ErrServerClosed = errors.New("portmap: server closed")

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
	// Logger gets a debug line per call and warnings (nil: none).
	Logger *slog.Logger
	// Now is the clock GETTIME reads (nil: time.Now).
	Now func() time.Time

	mu     sync.Mutex
	closed bool
	self   []Mapping
	closer map[io.Closer]struct{}
	wg     sync.WaitGroup
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

// track registers a listener or connection Shutdown must close; false
// when the server is already closed.
func (s *Server) track(c io.Closer, self *Mapping) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.closer == nil {
		s.closer = make(map[io.Closer]struct{})
	}
	s.closer[c] = struct{}{}
	if self != nil {
		for v := uint32(2); v <= 4; v++ {
			s.self = append(s.self, Mapping{Program, v, self.Prot, self.Port})
		}
	}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c io.Closer) {
	s.mu.Lock()
	delete(s.closer, c)
	s.mu.Unlock()
	s.wg.Done()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// table is the mappings answers are made from.
func (s *Server) table() []Mapping {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(append([]Mapping(nil), s.self...), s.Mappings...)
}

func (s *Server) answer(b []byte, t transport, from net.Addr) []byte {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	r := reply(b, t, s.table(), now)
	if s.Logger != nil {
		if c, err := decodeCall(b); err == nil {
			s.Logger.Debug("portmap: call", "client", from, "prog", c.prog, "vers", c.vers, "proc", c.proc)
		} else {
			s.Logger.Warn("portmap: bad call", "client", from, "bytes", len(b), "err", err)
		}
	}
	return r
}

// Serve answers calls on the TCP listener l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	var self *Mapping
	if a, ok := l.Addr().(*net.TCPAddr); ok {
		self = &Mapping{Prot: TCP, Port: uint16(a.Port)}
	}
	if !s.track(l, self) {
		l.Close()
		return ErrServerClosed
	}
	defer s.untrack(l)
	for {
		c, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("portmap: accept on %s: %w", l.Addr(), err)
		}
		if !s.track(c, nil) {
			c.Close()
			return ErrServerClosed
		}
		go s.serveConn(c)
	}
}

// serveConn answers the records of one TCP connection (RFC 5531
// record marking), one at a time.
func (s *Server) serveConn(c net.Conn) {
	defer s.untrack(c)
	defer c.Close()
	t := transport{prot: TCP}
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		t.local = a.AddrPort().Addr().Unmap()
	}
	r := bufio.NewReader(c)
	for {
		c.SetReadDeadline(time.Now().Add(IdleTimeout))
		rec, err := readRecord(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !s.isClosed() && s.Logger != nil {
				level := slog.LevelWarn
				if hungUp(err) {
					level = slog.LevelDebug // the way clients leave
				}
				s.Logger.Log(context.Background(), level, "portmap: dropping connection", "client", c.RemoteAddr(), "err", err)
			}
			return
		}
		out := s.answer(rec, t, c.RemoteAddr())
		if out == nil {
			continue
		}
		msg := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(out)), 1<<31|uint32(len(out)))
		if _, err := c.Write(append(msg, out...)); err != nil {
			return
		}
	}
}

// readRecord reads one record: fragments up to the one marked last.
func readRecord(r io.Reader) ([]byte, error) {
	var rec []byte
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if len(rec) > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		h := binary.BigEndian.Uint32(hdr[:])
		n := int(h & 0x7fffffff)
		if len(rec)+n > MaxRecord {
			return nil, fmt.Errorf("%w: record of more than %d bytes", ErrMalformed, MaxRecord)
		}
		start := len(rec)
		rec = append(rec, make([]byte, n)...)
		if _, err := io.ReadFull(r, rec[start:]); err != nil {
			return nil, fmt.Errorf("reading a %d-byte fragment: %w", n, err)
		}
		if h&(1<<31) != 0 {
			return rec, nil
		}
	}
}

// ServeUDP answers calls arriving on the UDP socket c until Shutdown.
func (s *Server) ServeUDP(c net.PacketConn) error {
	var self *Mapping
	local := netip.Addr{}
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
		self = &Mapping{Prot: UDP, Port: uint16(a.Port)}
		local = a.AddrPort().Addr().Unmap()
	}
	if !s.track(c, self) {
		c.Close()
		return ErrServerClosed
	}
	defer s.untrack(c)
	// On a wildcard socket, learn each call's destination address (for
	// GETADDR's answers and the reply's source) from IP_PKTINFO.
	var p4 *ipv4.PacketConn
	if local.IsUnspecified() {
		p4 = ipv4.NewPacketConn(c)
		if p4.SetControlMessage(ipv4.FlagDst, true) != nil {
			p4 = nil
		}
	}
	buf := make([]byte, 65536)
	for {
		n, dst, from, err := readUDP(c, p4, buf)
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("portmap: reading %s: %w", c.LocalAddr(), err)
		}
		t := transport{prot: UDP, local: local}
		if dst.IsValid() {
			t.local = dst
		}
		out := s.answer(buf[:n], t, from)
		if out == nil {
			continue
		}
		if p4 != nil && dst.Is4() {
			p4.WriteTo(out, &ipv4.ControlMessage{Src: dst.AsSlice()}, from)
		} else {
			c.WriteTo(out, from)
		}
	}
}

func readUDP(c net.PacketConn, p4 *ipv4.PacketConn, buf []byte) (int, netip.Addr, net.Addr, error) {
	if p4 == nil {
		n, from, err := c.ReadFrom(buf)
		return n, netip.Addr{}, from, err
	}
	n, cm, from, err := p4.ReadFrom(buf)
	var dst netip.Addr
	if cm != nil {
		if a, ok := netip.AddrFromSlice(cm.Dst); ok {
			dst = a.Unmap()
		}
	}
	return n, dst, from, err
}

// Shutdown closes the listeners, sockets and connections and waits for
// their goroutines, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for c := range s.closer {
		c.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hungUp says whether err is a client closing its connection: a reset
// (libnfs and the kernel's RPC client close with one once answered) or
// a close in the middle of a record.
func hungUp(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF)
}
