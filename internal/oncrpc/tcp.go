package oncrpc

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootrig/bootrig/internal/rawsys"
)

// Serve accepts TCP connections on l and serves each until Shutdown.
// Accept errors other than a closed listener (out of descriptors and
// the like) are logged, waited out and retried. It always returns a
// non-nil error; after Shutdown, ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	return s.loop(l, l.Addr(), "accept", func() error {
		c, err := l.Accept()
		if err == nil {
			s.accepted(c)
		}
		return err
	})
}

// accepted serves c, unless it is refused.
func (s *Server) accepted(c net.Conn) {
	if s.Hooks.Conn != nil {
		s.Hooks.Conn(c.RemoteAddr())
	}
	if s.Admit != nil && !s.Admit(c.RemoteAddr()) || !s.trackConn(c) {
		c.Close()
		return
	}
	if tc, ok := c.(*net.TCPConn); ok && s.SocketBuffer > 0 {
		tc.SetReadBuffer(s.SocketBuffer)
		tc.SetWriteBuffer(s.SocketBuffer)
	}
	go s.serveConn(c)
}

// trackConn counts a connection in, unless the server is closed or the
// client or the server is at its connection limit (logged).
func (s *Server) trackConn(c net.Conn) bool {
	ip := ClientAddr(c.RemoteAddr()).Addr()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return false
	case len(s.conns) >= s.maxConns():
		s.rl.Warn(s.Name+": connection refused: the server is at its connection limit", "client", c.RemoteAddr().String(), "limit", s.maxConns())
		return false
	case s.perClient[ip] >= s.maxPerClient():
		s.rl.Warn(s.Name+": connection refused: the client is at its connection limit", "client", c.RemoteAddr().String(), "limit", s.maxPerClient())
		return false
	}
	s.conns[c] = struct{}{}
	s.perClient[ip]++
	s.wg.Add(1)
	return true
}

func (s *Server) untrackConn(c net.Conn) {
	ip := ClientAddr(c.RemoteAddr()).Addr()
	s.mu.Lock()
	delete(s.conns, c)
	if s.perClient[ip]--; s.perClient[ip] <= 0 {
		delete(s.perClient, ip)
	}
	s.mu.Unlock()
	s.wg.Done()
}

// conn is one TCP connection being served.
type conn struct {
	s     *Server
	c     net.Conn
	raw   syscall.RawConn // nil: c is read and written as a net.Conn
	br    *bufio.Reader
	local netip.Addr
	wmu   sync.Mutex
	calls sync.WaitGroup
	slots chan struct{} // calls in flight
	// idle hands a call to a worker waiting for one: the connection's
	// workers (at most InFlight) outlive their calls, so that a call
	// runs on a goroutine whose stack has already grown.
	idle    chan job
	workers int           // started (only serveConn's loop counts them)
	done    chan struct{} // closed when the connection is done
}

// job is a call read from the connection and the budget it holds.
type job struct {
	rec  []byte
	hold int
}

// readers are the connections' read buffers, kept from one connection
// to the next: a client that connects for each command (libnfs's
// nfs-ls: one connection for MOUNT, one for NFS) would otherwise have
// every connection allocate 64 KiB afresh, page faults (16 of them) and
// garbage.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

// serveConn reads records from c and answers them, up to InFlight at a
// time; replies may go out in any order (RPC matches them by xid). A
// connection over its limits is not read until it is back under them.
func (s *Server) serveConn(c net.Conn) {
	defer s.untrackConn(c)
	defer c.Close()
	br := readers.Get().(*bufio.Reader)
	defer func() { br.Reset(nil); readers.Put(br) }()
	cn := &conn{s: s, c: c, br: br, slots: make(chan struct{}, s.inFlight()), idle: make(chan job), done: make(chan struct{})}
	if sc, ok := c.(syscall.Conn); ok && rawsys.ForSockets {
		cn.raw, _ = sc.SyscallConn()
	}
	if cn.raw != nil {
		br.Reset(rawReader{cn.raw})
	} else {
		br.Reset(c)
	}
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		cn.local = a.AddrPort().Addr().Unmap()
	}
	defer close(cn.done)
	defer cn.calls.Wait()
	idle := s.IdleTimeout
	if idle <= 0 {
		idle = 15 * time.Minute
	}
	for {
		c.SetReadDeadline(time.Now().Add(idle))
		rec, err := ReadRecord(cn.br, s.maxRecord())
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && s.Log != nil {
				s.Log.Debug(s.Name+": connection closed", "client", c.RemoteAddr().String(), "err", err)
			}
			if errors.Is(err, ErrRecordTooLarge) {
				s.rl.Warn(s.Name+": record over the size limit; connection closed", "client", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		j, ok := cn.admit(rec)
		if !ok {
			putBuf(rec)
			return
		}
		if cn.inline(rec) {
			cn.serve(j)
		} else {
			cn.start(j)
		}
	}
}

// inline says whether rec, just admitted, is served on the reading
// goroutine: it is the only call in flight, no other is read yet, and
// the Server's Inline takes it. A client that waits for each reply (a
// recursive listing: LOOKUP, READDIRPLUS, LOOKUP ...) is so spared the
// hand-off to a worker: two goroutine switches, and a thread woken on
// the other CPU for the worker to run on.
func (cn *conn) inline(rec []byte) bool {
	if cn.s.Inline == nil || len(cn.slots) != 1 || cn.br.Buffered() != 0 {
		return false
	}
	h, ok := peekHeader(rec)
	return ok && cn.s.Inline(h)
}

// admit holds a slot of the connection and the server's budget for
// rec, waiting for them; false after Shutdown.
func (cn *conn) admit(rec []byte) (job, bool) {
	s := cn.s
	select {
	case cn.slots <- struct{}{}:
	default:
		s.rl.Info(s.Name+": calls in flight on a connection at the limit; not reading it until one is answered", "client", cn.c.RemoteAddr().String(), "limit", s.inFlight())
		s.setBlocked(1)
		cn.slots <- struct{}{}
		s.setBlocked(-1)
	}
	hold := len(rec) + s.maxRecord()
	if !s.acquire(hold) {
		<-cn.slots
		return job{}, false
	}
	if !s.begin() {
		s.release(hold)
		<-cn.slots
		return job{}, false
	}
	cn.calls.Add(1)
	return job{rec, hold}, true
}

// start serves j on one of the connection's workers.
func (cn *conn) start(j job) {
	s := cn.s
	select {
	case cn.idle <- j:
	default:
		if cn.workers < s.inFlight() {
			cn.workers++
			go cn.work(j)
		} else {
			// This call holds a slot, so one of the workers is
			// done with its call and about to wait for another.
			cn.idle <- j
		}
	}
}

// work serves j, then the calls handed to it, until the connection is
// done.
func (cn *conn) work(j job) {
	for {
		cn.serve(j)
		select {
		case j = <-cn.idle:
		case <-cn.done:
			return
		}
	}
}

// serve answers one call and sends the reply.
func (cn *conn) serve(j job) {
	s := cn.s
	defer func() { <-cn.slots; cn.calls.Done(); s.end() }()
	reply := s.Answer(j.rec, Request{Remote: cn.c.RemoteAddr(), Local: cn.local, Transport: TCP})
	putBuf(j.rec)
	// Keep what the reply holds until it is sent.
	s.release(j.hold - len(reply))
	defer s.release(len(reply))
	if reply != nil {
		cn.send(reply)
		putBuf(reply)
	}
}

// send writes one reply as a single-fragment record.
func (cn *conn) send(reply []byte) {
	mark := RecordMark(len(reply))
	out := net.Buffers{mark[:], reply}
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	cn.c.SetWriteDeadline(time.Now().Add(time.Minute))
	var err error
	if cn.raw != nil {
		err = writeRaw(cn.raw, out)
	} else {
		_, err = out.WriteTo(cn.c)
	}
	if err != nil {
		cn.c.Close()
	}
}

// rawReader reads a connection with rawsys.Read: the poller still waits
// for data (and keeps the read deadline), but the read itself does not
// wake the runtime's sysmon (see package rawsys).
type rawReader struct{ rc syscall.RawConn }

func (r rawReader) Read(p []byte) (int, error) {
	var n int
	var err error
	if werr := r.rc.Read(func(fd uintptr) bool {
		n, err = rawsys.Read(int(fd), p)
		return err != unix.EAGAIN
	}); werr != nil {
		return 0, werr
	}
	switch {
	case err != nil:
		return 0, err
	case n == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return n, nil
}

// writeRaw writes all of bufs with rawsys.Writev, waiting in the poller
// (under the write deadline) while the socket is full.
func writeRaw(rc syscall.RawConn, bufs [][]byte) error {
	var err error
	if werr := rc.Write(func(fd uintptr) bool {
		for len(bufs) > 0 {
			var n int
			if n, err = rawsys.Writev(int(fd), bufs); err != nil {
				return err != unix.EAGAIN
			}
			bufs = consume(bufs, n)
		}
		return true
	}); werr != nil {
		return werr
	}
	return err
}

func (s *Server) setBlocked(d int) {
	s.mu.Lock()
	s.blocked += d
	s.mu.Unlock()
}

// consume drops the first n bytes of bufs.
func consume(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) > 0 {
		bufs[0] = bufs[0][n:]
	}
	return bufs
}
