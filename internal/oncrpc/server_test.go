package oncrpc

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bootrig/bootrig/internal/logtest"
)

// gate is a Handler that holds every call until released.
type gate struct {
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 1000), release: make(chan struct{})} }

func (g *gate) ServeRPC(r *Request) []byte {
	g.entered <- struct{}{}
	<-g.release
	return Accepted(r.XID, Success)
}

// serveTCP serves srv on a loopback listener until the test ends.
func serveTCP(t *testing.T, srv *Server) (string, *logtest.Buffer) {
	t.Helper()
	var logs *logtest.Buffer
	srv.Log, logs = logtest.New(slog.LevelInfo)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; err != ErrServerClosed {
			t.Errorf("Serve: %v, want ErrServerClosed", err)
		}
	})
	return l.Addr().String(), logs
}

func dialFrom(t *testing.T, addr string, from net.IP) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: from}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls cond (the server's own counters) until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func send(t *testing.T, c net.Conn, xid uint32) {
	t.Helper()
	msg := call(xid, 2, AuthNone, nil)
	m := RecordMark(len(msg))
	if _, err := c.Write(append(m[:], msg...)); err != nil {
		t.Fatal(err)
	}
}

// TestConnectionLimits: a client past ConnsPerClient is disconnected at
// accept and logged once however often it tries; another client and the
// client's own connections are still served.
func TestConnectionLimits(t *testing.T) {
	srv := &Server{Name: "test", Handler: HandlerFunc(func(r *Request) []byte { return Accepted(r.XID, Success) }),
		Limits: Limits{ConnsPerClient: 3, Conns: 5}}
	addr, logs := serveTCP(t, srv)
	var mine []net.Conn
	for range 3 {
		mine = append(mine, dialFrom(t, addr, net.IPv4(127, 0, 0, 1)))
	}
	waitFor(t, "3 connections", func() bool { return srv.Stats().Conns == 3 })
	for range 20 {
		c := dialFrom(t, addr, net.IPv4(127, 0, 0, 1))
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("connection past the client's limit: %v, want EOF", err)
		}
	}
	other := dialFrom(t, addr, net.IPv4(127, 0, 0, 2))
	for i, c := range append(mine, other) {
		send(t, c, uint32(i))
		if _, err := ReadRecord(bufio.NewReader(c), 1024); err != nil {
			t.Errorf("connection %d within the limits: %v", i, err)
		}
	}
	if n := strings.Count(logs.String(), "the client is at its connection limit"); n != 1 {
		t.Errorf("%d log lines for 20 refusals, want 1:\n%s", n, logs)
	}
	dialFrom(t, addr, net.IPv4(127, 0, 0, 3))
	waitFor(t, "5 connections", func() bool { return srv.Stats().Conns == 5 })
	c := dialFrom(t, addr, net.IPv4(127, 0, 0, 4))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("connection past the server's limit: %v, want EOF", err)
	}
}

// TestInFlightAndQueuedBytes: a connection gets InFlight calls served at
// once and is then not read; across connections, calls wait while the
// queued-bytes budget is spent, and go on as replies leave.
func TestInFlightAndQueuedBytes(t *testing.T) {
	g := newGate()
	const rec = 1024
	// Each call holds its record (~44 bytes) plus MaxRecord: 3 fit.
	srv := &Server{Name: "test", Handler: g, MaxRecord: rec, Limits: Limits{InFlight: 2, QueuedBytes: 3*(rec+44) + 10}}
	addr, logs := serveTCP(t, srv)
	a, b := dialFrom(t, addr, net.IPv4(127, 0, 0, 1)), dialFrom(t, addr, net.IPv4(127, 0, 0, 1))
	for i := range 4 {
		send(t, a, uint32(i))
	}
	waitFor(t, "2 calls in flight and a blocked connection", func() bool { s := srv.Stats(); return s.Active == 2 && s.Blocked == 1 })
	for i := range 4 {
		send(t, b, uint32(10+i))
	}
	waitFor(t, "3 calls and 2 blocked connections", func() bool { s := srv.Stats(); return s.Active == 3 && s.Blocked == 2 })
	if s := srv.Stats(); s.QueuedBytes > srv.Limits.QueuedBytes {
		t.Errorf("queued %d bytes, limit %d", s.QueuedBytes, srv.Limits.QueuedBytes)
	}
	close(g.release)
	for _, c := range []net.Conn{a, b} {
		br := bufio.NewReader(c)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for range 4 {
			if _, err := ReadRecord(br, 1024); err != nil {
				t.Fatalf("reply: %v", err)
			}
		}
	}
	waitFor(t, "nothing held", func() bool { s := srv.Stats(); return s.Active == 0 && s.QueuedBytes == 0 })
	for _, msg := range []string{"calls in flight on a connection at the limit", "queued bytes at the limit"} {
		if !strings.Contains(logs.String(), msg) {
			t.Errorf("no %q in the log:\n%s", msg, logs)
		}
	}
}

// TestInlineOnlyAlone: with every call Inline, a call is still served
// on a worker unless it is alone: two calls read together are both in
// flight at once, and so is a third sent while they are held.
func TestInlineOnlyAlone(t *testing.T) {
	g := newGate()
	srv := &Server{Name: "test", Handler: g, Inline: func(Header) bool { return true }}
	addr, _ := serveTCP(t, srv)
	c := dialFrom(t, addr, net.IPv4(127, 0, 0, 1))
	var two []byte
	for xid := range uint32(2) {
		msg := call(xid, 2, AuthNone, nil)
		m := RecordMark(len(msg))
		two = append(append(two, m[:]...), msg...)
	}
	if _, err := c.Write(two); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "2 calls in flight", func() bool { return srv.Stats().Active == 2 })
	send(t, c, 2)
	waitFor(t, "3 calls in flight", func() bool { return srv.Stats().Active == 3 })
	close(g.release)
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for range 3 {
		if _, err := ReadRecord(br, 1024); err != nil {
			t.Fatalf("reply: %v", err)
		}
	}
}
