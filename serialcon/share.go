package serialcon

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// ErrShareClosed is returned by [Share.Serve] after [Share.Close].
var ErrShareClosed = errors.New("serialcon: console share closed")

// Console is what a [Share] serves: a console whose received bytes can
// be copied to a writer ([Session.Attach]) and that takes bytes to send.
type Console interface {
	Attach(w io.Writer) (detach func())
	Write(p []byte) (int, error)
}

// Share serves one console to many network clients, as ser2net does a
// serial port: every client reads every byte the board sends; one writes
// at a time, the first to type, until it disconnects; what the others
// type is dropped and they are told so. A client that falls MaxQueue
// chunks behind is disconnected rather than let the console wait for
// it. The console's own logs (the Session's) keep every byte.
//
// RFC 2217 clients' line settings (speed, frame, flow control) go to
// Line, the writer's alone: a client that asks for a change while
// another writes is answered with the settings in force, as is one
// whose change the line cannot take.
type Share struct {
	Console Console
	// Line is the port behind the console, whose settings clients may
	// change: a [Session] on a tty device. Nil: an emulated UART's
	// ([EmulatedLine]), starting at 115200 8N1.
	Line LineControl
	Name string       // the console's name in notices to clients
	Log  *slog.Logger // nil: none
	// MaxQueue is how many chunks of output a client may lag (default
	// 1024, at most 4 MiB).
	MaxQueue int

	mu        sync.Mutex
	writer    *shareClient
	clients   map[*shareClient]struct{}
	listeners map[net.Listener]struct{}
	closed    bool
	changed   chan struct{} // closed and replaced when a client comes or goes
	wg        sync.WaitGroup
	lineMu    sync.Mutex // one client's line settings at a time
	emulated  *EmulatedLine
}

// Clients is how many clients are connected, and a channel closed when
// that changes.
func (s *Share) Clients() (int, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients), s.changedLocked()
}

func (s *Share) changedLocked() chan struct{} {
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

// notifyLocked wakes whoever waits on Clients' channel.
func (s *Share) notifyLocked() {
	close(s.changedLocked())
	s.changed = make(chan struct{})
}

// Serve accepts clients on l until Close, and returns ErrShareClosed
// then. Clients speak p: [TCP] (bytes as they are) or [RFC2217].
func (s *Share) Serve(l net.Listener, p Kind) error {
	if p != TCP && p != RFC2217 {
		return fmt.Errorf("console share %s: serves tcp or rfc2217, not %s", l.Addr(), p)
	}
	if !s.track(l) {
		return ErrShareClosed
	}
	for {
		conn, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrShareClosed
			}
			return fmt.Errorf("console share %s: accept: %w", l.Addr(), err)
		}
		c := s.newClient(conn, p)
		if c == nil {
			conn.Close()
			return ErrShareClosed
		}
		s.wg.Add(2)
		go func() { defer s.wg.Done(); c.sendLoop() }()
		go func() { defer s.wg.Done(); s.readLoop(c) }()
	}
}

func (s *Share) track(l net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
	}
	s.listeners[l] = struct{}{}
	return true
}

func (s *Share) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Close stops accepting, disconnects every client and waits for them.
func (s *Share) Close() error {
	s.mu.Lock()
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.clients {
		c.conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// shareClient is one connection: its output queue, and whether it was
// told it cannot write.
type shareClient struct {
	conn   net.Conn
	proto  Kind
	out    chan []byte
	mu     sync.Mutex
	gone   bool
	told   *shareClient // the writer it was last told about
	detach func()
}

func (s *Share) newClient(conn net.Conn, p Kind) *shareClient {
	q := s.MaxQueue
	if q <= 0 {
		q = 1024
	}
	c := &shareClient{conn: conn, proto: p, out: make(chan []byte, q)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if s.clients == nil {
		s.clients = map[*shareClient]struct{}{}
	}
	s.clients[c] = struct{}{}
	s.notifyLocked()
	if p == RFC2217 {
		c.queue(telnetGreeting)
	}
	c.detach = s.Console.Attach(consoleOut{c})
	s.logger().Info("console share: client connected", "console", s.Name, "client", conn.RemoteAddr())
	return c
}

// consoleOut is a client as the console's writer: it never blocks.
type consoleOut struct{ c *shareClient }

func (o consoleOut) Write(b []byte) (int, error) {
	if o.c.proto == RFC2217 {
		o.c.queue(escapeIAC(b))
	} else {
		o.c.queue(append([]byte(nil), b...))
	}
	return len(b), nil
}

// queue hands b to the send loop; a client too far behind is cut off.
func (c *shareClient) queue(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return
	}
	select {
	case c.out <- b:
	default:
		c.gone = true
		close(c.out)
		c.conn.Close()
	}
}

func (c *shareClient) sendLoop() {
	for b := range c.out {
		c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.conn.Write(b); err != nil {
			c.conn.Close()
		}
	}
}

// hangup ends the client: no more output, its writer's seat is free.
func (s *Share) hangup(c *shareClient) {
	c.detach()
	c.mu.Lock()
	if !c.gone {
		c.gone = true
		close(c.out)
	}
	c.mu.Unlock()
	c.conn.Close()
	s.mu.Lock()
	delete(s.clients, c)
	if s.writer == c {
		s.writer = nil
	}
	s.notifyLocked()
	s.mu.Unlock()
	s.logger().Info("console share: client gone", "console", s.Name, "client", c.conn.RemoteAddr())
}

func (s *Share) readLoop(c *shareClient) {
	defer s.hangup(c)
	var t *telnetServer
	if c.proto == RFC2217 {
		t = &telnetServer{reply: c.queue, comPort: func(cmd byte, val []byte) []byte { return s.comPort(c, cmd, val) }}
	}
	b := make([]byte, 4096)
	for {
		n, err := c.conn.Read(b)
		if n > 0 {
			data := b[:n]
			if t != nil {
				data = t.parse(data)
			}
			if len(data) > 0 {
				s.input(c, data)
			}
		}
		if err != nil {
			return
		}
	}
}

// input is what client c typed: sent if c writes (the first to type
// does, until it disconnects); else dropped, and c told once per writer.
func (s *Share) input(c *shareClient, b []byte) {
	if w := s.claimWriter(c); w != c {
		s.tellReadOnly(c, w)
		return
	}
	s.Console.Write(b)
}

// claimWriter makes c the writer if there is none, and returns the
// writer.
func (s *Share) claimWriter(c *shareClient) *shareClient {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writer == nil {
		s.writer = c
		s.logger().Info("console share: writer", "console", s.Name, "client", c.conn.RemoteAddr())
	}
	return s.writer
}

// tellReadOnly tells c, once per writer w, that w writes and not c.
func (s *Share) tellReadOnly(c *shareClient, w *shareClient) {
	c.mu.Lock()
	told := c.told == w
	c.told = w
	c.mu.Unlock()
	if !told {
		msg := fmt.Sprintf("\r\n[bootrig: console %s is read-only here: %s is typing; what you type is dropped]\r\n", s.Name, w.conn.RemoteAddr())
		consoleOut{c}.Write([]byte(msg))
	}
}
