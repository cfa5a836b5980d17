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
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bootrig/bootrig/internal/logtest"
	"github.com/bootrig/bootrig/internal/oncrpc"
)

var testTable = []Mapping{
	{100003, 3, TCP, 2049},
	{100005, 1, UDP, 20048},
	{100005, 3, UDP, 20048},
	{100005, 3, TCP, 20048},
}

// callMsg builds an RPC call with AUTH_SYS credentials (as the kernel
// and rpcinfo send them) and the given argument words.
func callMsg(xid, rpcvers, prog, vers, proc uint32, args ...[]byte) []byte {
	e := &oncrpc.Encoder{}
	for _, v := range []uint32{xid, oncrpc.Call, rpcvers, prog, vers, proc} {
		e.Uint32(v)
	}
	e.Uint32(1) // AUTH_SYS
	cred := &oncrpc.Encoder{}
	cred.Uint32(0)
	cred.String("board")
	cred.Uint32(0)
	cred.Uint32(0)
	cred.Uint32(0)
	e.String(string(cred.B))
	e.Uint32(0) // verifier AUTH_NONE
	e.Uint32(0)
	for _, a := range args {
		e.B = append(e.B, a...)
	}
	return e.B
}

func words(v ...uint32) []byte {
	e := &oncrpc.Encoder{}
	for _, x := range v {
		e.Uint32(x)
	}
	return e.B
}

func rpcbArgs(prog, vers uint32, netid string) []byte {
	e := &oncrpc.Encoder{}
	e.Uint32(prog)
	e.Uint32(vers)
	e.String(netid)
	e.String("")
	e.String("")
	return e.B
}

// parsedReply is a decoded reply: accepted with a status and result,
// or denied.
type parsedReply struct {
	xid    uint32
	denied bool
	stat   uint32
	result []byte
}

func parseReply(t testing.TB, b []byte) parsedReply {
	t.Helper()
	d := oncrpc.NewDecoder(b)
	r := parsedReply{xid: d.Uint32()}
	if d.Uint32() != oncrpc.Reply {
		t.Fatalf("not a reply: % x", b)
	}
	switch d.Uint32() {
	case oncrpc.MsgAccepted:
		d.Uint32()
		d.Opaque(400)
		r.stat = d.Uint32()
	case oncrpc.MsgDenied:
		r.denied = true
		r.stat = d.Uint32()
	default:
		t.Fatalf("reply_stat neither accepted nor denied: % x", b)
	}
	if d.Err() != nil {
		t.Fatalf("reply % x: %v", b, d.Err())
	}
	r.result = d.Rest()
	return r
}

type testServer struct {
	srv        *Server
	tcp, udp   string
	errs       chan error
	shutdownOK bool
}

func start(t *testing.T) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{
		srv: &Server{Mappings: testTable, Now: func() time.Time { return time.Unix(1700000000, 0) }},
		tcp: l.Addr().String(), udp: pc.LocalAddr().String(), errs: make(chan error, 2),
	}
	go func() { ts.errs <- ts.srv.Serve(l) }()
	go func() { ts.errs <- ts.srv.ServeUDP(pc) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ts.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		for range 2 {
			if err := <-ts.errs; !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		}
	})
	return ts
}

// overTCP sends msg as one record (or as fragments of at most frag
// bytes) and reads the reply record.
func overTCP(t *testing.T, addr string, msg []byte, frag int) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if frag == 0 {
		frag = len(msg)
	}
	var out []byte
	for i := 0; i < len(msg) || i == 0; i += frag {
		part := msg[i:min(i+frag, len(msg))]
		h := uint32(len(part))
		if i+frag >= len(msg) {
			h |= 1 << 31
		}
		out = binary.BigEndian.AppendUint32(out, h)
		out = append(out, part...)
	}
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	rec, err := oncrpc.ReadRecord(bufio.NewReader(c), MaxRecord)
	if err != nil {
		t.Fatalf("reading the reply: %v", err)
	}
	return rec
}

func overUDP(t *testing.T, addr string, msg []byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("reading the reply: %v", err)
	}
	return buf[:n]
}

func TestCalls(t *testing.T) {
	ts := start(t)
	_, tcpPort, _ := net.SplitHostPort(ts.tcp)
	var tp uint16
	fmt.Sscan(tcpPort, &tp)
	cases := []struct {
		name   string
		msg    []byte
		denied bool
		stat   uint32
		result []byte // nil: not checked
	}{
		{"v2 null", callMsg(1, 2, Program, 2, procNull), false, oncrpc.Success, []byte{}},
		{"v3 null", callMsg(2, 2, Program, 3, procNull), false, oncrpc.Success, []byte{}},
		{"v4 null", callMsg(3, 2, Program, 4, procNull), false, oncrpc.Success, []byte{}},
		{"v2 getport nfs", callMsg(4, 2, Program, 2, procGetport, words(100003, 3, 6, 0)), false, oncrpc.Success, words(2049)},
		{"v2 getport mountd udp", callMsg(5, 2, Program, 2, procGetport, words(100005, 3, 17, 0)), false, oncrpc.Success, words(20048)},
		{"v2 getport wrong version", callMsg(6, 2, Program, 2, procGetport, words(100003, 4, 6, 0)), false, oncrpc.Success, words(0)},
		{"v2 getport unknown", callMsg(7, 2, Program, 2, procGetport, words(100021, 1, 6, 0)), false, oncrpc.Success, words(0)},
		{"v2 getport itself", callMsg(8, 2, Program, 2, procGetport, words(Program, 2, 6, 0)), false, oncrpc.Success, words(uint32(tp))},
		{"v2 set", callMsg(9, 2, Program, 2, procSet, words(100003, 3, 6, 1)), false, oncrpc.Success, words(0)},
		{"v2 getport short args", callMsg(10, 2, Program, 2, procGetport, words(100003)), false, oncrpc.GarbageArgs, []byte{}},
		{"v3 getaddr nfs", callMsg(11, 2, Program, 3, procGetport, rpcbArgs(100003, 3, "tcp")), false, oncrpc.Success, xdrString("127.0.0.1.8.1")},
		{"v4 getaddr other version", callMsg(12, 2, Program, 4, procGetport, rpcbArgs(100005, 2, "udp")), false, oncrpc.Success, xdrString("127.0.0.1.78.80")},
		{"v3 getaddr exact only", callMsg(13, 2, Program, 3, procGetport, rpcbArgs(100005, 2, "udp")), false, oncrpc.Success, xdrString("")},
		{"v4 getversaddr", callMsg(14, 2, Program, 4, procVersAdd, rpcbArgs(100005, 3, "tcp")), false, oncrpc.Success, xdrString("127.0.0.1.78.80")},
		{"v3 getaddr bad netid", callMsg(15, 2, Program, 3, procGetport, rpcbArgs(100003, 3, "rdma")), false, oncrpc.Success, xdrString("")},
		{"v3 gettime", callMsg(16, 2, Program, 3, procGettime), false, oncrpc.Success, words(1700000000)},
		{"v2 callit", callMsg(17, 2, Program, 2, 5), false, oncrpc.ProcUnavail, []byte{}},
		{"v2 proc 99", callMsg(18, 2, Program, 2, 99), false, oncrpc.ProcUnavail, []byte{}},
		{"v3 proc 9", callMsg(19, 2, Program, 3, procVersAdd), false, oncrpc.ProcUnavail, []byte{}},
		{"other program", callMsg(20, 2, 100003, 3, 0), false, oncrpc.ProgUnavail, []byte{}},
		{"version 5", callMsg(21, 2, Program, 5, 0), false, oncrpc.ProgMismatch, words(2, 4)},
		{"version 1", callMsg(22, 2, Program, 1, 0), false, oncrpc.ProgMismatch, words(2, 4)},
		{"rpc version 3", callMsg(23, 3, Program, 2, 0), true, oncrpc.RPCMismatch, words(2, 2)},
		{"truncated header", callMsg(24, 2, Program, 2, 0)[:30], true, oncrpc.AuthError, words(oncrpc.AuthBadCred)},
	}
	for _, c := range cases {
		for _, tr := range []string{"tcp", "udp"} {
			t.Run(c.name+"/"+tr, func(t *testing.T) {
				var b []byte
				if tr == "tcp" {
					b = overTCP(t, ts.tcp, c.msg, 0)
				} else {
					b = overUDP(t, ts.udp, c.msg)
				}
				r := parseReply(t, b)
				if r.xid != binary.BigEndian.Uint32(c.msg) || r.denied != c.denied || r.stat != c.stat {
					t.Fatalf("reply xid %d denied %v stat %d; want xid %d denied %v stat %d",
						r.xid, r.denied, r.stat, binary.BigEndian.Uint32(c.msg), c.denied, c.stat)
				}
				if c.result != nil && !slices.Equal(r.result, c.result) {
					t.Errorf("result % x, want % x", r.result, c.result)
				}
			})
		}
	}
}

func xdrString(s string) []byte {
	e := &oncrpc.Encoder{}
	e.String(s)
	return e.B
}

// TestDump decodes both DUMP formats.
func TestDump(t *testing.T) {
	ts := start(t)
	d := oncrpc.NewDecoder(parseReply(t, overTCP(t, ts.tcp, callMsg(1, 2, Program, 2, procDump), 7)).result)
	var got []Mapping
	for d.Uint32() == 1 {
		m := Mapping{Prog: d.Uint32(), Vers: d.Uint32(), Prot: Protocol(d.Uint32())}
		m.Port = uint16(d.Uint32())
		got = append(got, m)
	}
	if d.Err() != nil || len(d.Rest()) != 0 {
		t.Fatalf("v2 DUMP: %v, %d bytes left", d.Err(), len(d.Rest()))
	}
	// The portmapper's own 6 entries, then the table.
	if len(got) != 6+len(testTable) || !slices.Equal(got[6:], testTable) || got[0].Prog != Program {
		t.Errorf("v2 DUMP = %v", got)
	}
	d = oncrpc.NewDecoder(parseReply(t, overUDP(t, ts.udp, callMsg(2, 2, Program, 4, procDump))).result)
	var lines []string
	for d.Uint32() == 1 {
		prog, vers := d.Uint32(), d.Uint32()
		lines = append(lines, fmt.Sprintf("%d %d %s %s %s", prog, vers, d.String(64), d.String(64), d.String(64)))
	}
	if d.Err() != nil || len(lines) != 10 || lines[6] != "100003 3 tcp 127.0.0.1.8.1 superuser" {
		t.Errorf("v4 DUMP (%v): %q", d.Err(), lines)
	}
}

// TestGarbage: junk gets no reply (nobody to answer) or a well-formed
// one, and the server keeps answering.
func TestGarbage(t *testing.T) {
	ts := start(t)
	for _, junk := range [][]byte{{}, {1, 2, 3}, words(7, oncrpc.Reply, 0), words(8)} {
		c, err := net.Dial("udp", ts.udp)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(junk)
		c.Close()
	}
	// An oversized TCP record closes the connection.
	c, err := net.Dial("tcp", ts.tcp)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write(words(1<<31 | MaxRecord + 1))
	if n, err := c.Read(make([]byte, 4)); err != io.EOF {
		t.Errorf("oversized record: read %d, %v; want EOF", n, err)
	}
	c.Close()
	r := parseReply(t, overUDP(t, ts.udp, callMsg(99, 2, Program, 2, procNull)))
	if r.xid != 99 || r.stat != oncrpc.Success {
		t.Errorf("after garbage: %+v", r)
	}
}

// FuzzReply: no input panics, and every reply is a well-formed reply
// to the call's xid.
func FuzzReply(f *testing.F) {
	f.Add(callMsg(1, 2, Program, 2, procGetport, words(100003, 3, 6, 0)))
	f.Add(callMsg(2, 2, Program, 4, procGetport, rpcbArgs(100003, 3, "tcp")))
	f.Add(callMsg(3, 2, Program, 3, procDump))
	f.Add(callMsg(4, 3, 1, 2, 3))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff})
	srv := &Server{Mappings: testTable}
	f.Fuzz(func(t *testing.T, b []byte) {
		out := srv.server().Answer(b, oncrpc.Request{Transport: oncrpc.UDP})
		if out == nil {
			if _, err := oncrpc.ParseCall(b); err != oncrpc.ErrNotCall {
				t.Fatalf("no reply to a call (decode: %v)", err)
			}
			return
		}
		if r := parseReply(t, out); r.xid != binary.BigEndian.Uint32(b) {
			t.Fatalf("reply xid %d to call %d", r.xid, binary.BigEndian.Uint32(b))
		}
	})
}

func TestListenAndServeTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = (&Server{}).ListenAndServe(l.Addr().String())
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "rpcbind") {
		t.Errorf("ListenAndServe on a taken port: %v", err)
	}
}

func TestNFSMappings(t *testing.T) {
	tcp := []Mapping{{100003, 3, TCP, 2049}, {100005, 3, TCP, 2049}, {100005, 3, UDP, 2049}}
	for _, tc := range []struct {
		udp  bool
		want []Mapping
	}{
		{false, tcp},
		{true, append(tcp, Mapping{100003, 3, UDP, 2049})},
	} {
		if got := NFSMappings(2049, tc.udp); !slices.Equal(got, tc.want) {
			t.Errorf("NFSMappings(2049, %v) = %v, want %v", tc.udp, got, tc.want)
		}
	}
}

// emfileListener fails Accept with EMFILE, as a process out of
// descriptors does, n times, then accepts.
type emfileListener struct {
	net.Listener
	mu    sync.Mutex
	fails int
}

func (l *emfileListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fails > 0 {
		l.fails--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestServeGoesOnAfterAcceptErrors: out of descriptors, Serve backs off
// and goes on (it used to return, and the portmapper's TCP side stayed
// dead), logging the cause once, not per failure.
func TestServeGoesOnAfterAcceptErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log, logs := logtest.New(slog.LevelInfo)
	srv := &Server{Mappings: testTable, Logger: log}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(&emfileListener{Listener: l, fails: 8}) }()
	r := parseReply(t, overTCP(t, l.Addr().String(), callMsg(5, 2, Program, 2, procNull), 0))
	if r.xid != 5 || r.stat != oncrpc.Success {
		t.Errorf("call after 8 accept errors: %+v", r)
	}
	if n := strings.Count(logs.String(), "accept failed; retrying"); n != 1 {
		t.Errorf("%d log lines for 8 accept errors, want 1:\n%s", n, logs)
	}
	srv.Shutdown(context.Background())
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: %v, want ErrServerClosed", err)
	}
}

// TestGarbageDatagramsLogOnce: a flood of garbage datagrams costs one
// log line per cause, not one each.
func TestGarbageDatagramsLogOnce(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log, logs := logtest.New(slog.LevelInfo)
	srv := &Server{Mappings: testTable, Logger: log}
	go srv.ServeUDP(pc)
	defer srv.Shutdown(context.Background())
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for round := range 20 {
		for i := range 100 {
			c.Write(words(uint32(i), oncrpc.Reply, 0))                // not a call
			c.Write(callMsg(uint32(i), 2, Program, 2, procNull)[:30]) // truncated credential
		}
		// Datagrams are served in order: once this is answered, the
		// round was read (batches small enough for the socket buffer).
		r := parseReply(t, overUDP(t, pc.LocalAddr().String(), callMsg(uint32(round), 2, Program, 2, procNull)))
		if r.xid != uint32(round) {
			t.Fatalf("reply %+v", r)
		}
	}
	lines := strings.Count(logs.String(), "\n")
	if lines > 2 || !strings.Contains(logs.String(), "not an RPC call") || !strings.Contains(logs.String(), "call rejected") {
		t.Errorf("%d log lines for 4000 garbage datagrams, want 2 (one per cause):\n%.2000s", lines, logs)
	}
}
