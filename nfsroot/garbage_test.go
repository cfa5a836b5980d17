package nfsroot

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	nfs "github.com/willscott/go-nfs"

	"github.com/bootrig/bootrig/internal/oncrpc"
)

// garbage returns the i-th hostile byte stream: random bytes, absurd
// record lengths, endless non-final fragments, replies instead of calls,
// calls with huge opaque lengths, truncated records.
func garbage(r *rand.Rand, i int, root []byte) []byte {
	hdr := func(n uint32, last bool) []byte {
		if last {
			n |= 0x80000000
		}
		return binary.BigEndian.AppendUint32(nil, n)
	}
	call := func(prog, vers, proc uint32, args []byte) []byte {
		e := &encoder{}
		for _, v := range []uint32{r.Uint32(), oncrpc.Call, 2, prog, vers, proc, authUnix} {
			e.Uint32(v)
		}
		e.Opaque(bytes.Repeat([]byte{0xff}, r.IntN(64)))
		e.Uint32(authNone)
		e.Uint32(0)
		e.B = append(e.B, args...)
		return e.B
	}
	rnd := func(n int) []byte {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		return b
	}
	switch i % 8 {
	case 0:
		return rnd(r.IntN(4096))
	case 1:
		return append(hdr(0x7fffffff, true), rnd(100)...)
	case 2:
		var b []byte
		for range 20 {
			b = append(b, hdr(60000, false)...)
			b = append(b, make([]byte, 60000)...)
		}
		return b
	case 3:
		m := call(oncrpc.ProgNFS, 3, 0, nil)
		binary.BigEndian.PutUint32(m[4:], oncrpc.Reply)
		return append(hdr(uint32(len(m)), true), m...)
	case 4:
		m := call(oncrpc.ProgNFS, 3, uint32(r.IntN(22)), binary.BigEndian.AppendUint32(nil, 0xfffffff0))
		return append(hdr(uint32(len(m)), true), m...)
	case 5:
		e := &encoder{}
		e.Opaque(root)
		e.B = append(e.B, rnd(r.IntN(64))...)
		m := call(oncrpc.ProgNFS, 3, uint32(r.IntN(22)), e.B)
		return append(hdr(uint32(len(m)+r.IntN(100)), true), m...) // truncated
	case 6:
		e := &encoder{}
		e.Opaque(root)
		e.B = append(e.B, rnd(r.IntN(200))...)
		m := call(oncrpc.ProgNFS, 3, uint32(r.IntN(22)), e.B)
		return append(hdr(uint32(len(m)), true), m...)
	}
	m := call(oncrpc.ProgMount, 3, uint32(r.IntN(6)), rnd(r.IntN(300)))
	return append(hdr(uint32(len(m)), true), m...)
}

// TestGarbageConnections sends 1,000 connections of hostile bytes, with
// some left open mid-record, and then checks that the server still
// serves others.
func TestGarbageConnections(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "etc", "hostname"), []byte("board\n"))
	h := start(t, dir, nil)
	r := rand.New(rand.NewPCG(1, 2))
	root := h.x.RootHandle()
	var wg sync.WaitGroup
	var open []net.Conn
	for i := range 1000 {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		msg := garbage(r, i, root)
		if i%50 == 7 { // stays open after half a record
			c.Write(append(binary.BigEndian.AppendUint32(nil, 0x80001000), 1, 2, 3))
			open = append(open, c)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			c.Write(msg)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
			// Read whatever comes back until the server closes or
			// answers everything.
			bufio.NewReader(c).WriteTo(discard{})
		}()
	}
	wg.Wait()
	// The hostile client holds its own connection slots with the
	// records it left open; another client is served.
	c := dialFrom(t, h.addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)})
	c.call(oncrpc.ProgNFS, 0, nil)
	fh := c.mustLookup(c.mount("/"), "etc", "hostname")
	if st, data := c.read(fh, 0, 100); st != nfs.NFSStatusOk || string(data) != "board\n" {
		t.Errorf("READ after 1,000 garbage connections: %v %q", st, data)
	}
	if n := h.srv.server().Panics(); n != 0 {
		t.Errorf("%d calls panicked:\n%s", n, h.logs)
	}
	for _, c := range open {
		c.Close()
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// FuzzHandle feeds arbitrary RPC records to the call decoder and every
// procedure: no panic, and every reply carries the call's xid.
func FuzzHandle(f *testing.F) {
	dir := f.TempDir()
	writeFile(f, filepath.Join(dir, "root", "etc", "hostname"), []byte("board\n"))
	os.Symlink("/etc", filepath.Join(dir, "root", "abs"))
	x, err := OpenExport(filepath.Join(dir, "root"), ExportOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { x.Close() })
	s := &Server{Export: x, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.server()
	root := x.RootHandle()
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 64 {
		g := garbage(r, i, root)
		if len(g) > 4 && len(g) < 8192 {
			f.Add(g[4:])
		}
	}
	for proc := range uint32(22) {
		e := &encoder{}
		for _, v := range []uint32{proc, oncrpc.Call, 2, oncrpc.ProgNFS, 3, proc, authNone, 0, authNone, 0} {
			e.Uint32(v)
		}
		e.Opaque(root)
		e.String("etc")
		e.Uint64(0)
		e.Uint32(100)
		f.Add(e.B)
	}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
	f.Fuzz(func(t *testing.T, rec []byte) {
		reply := s.handle(rec, addr)
		if reply != nil && (len(reply) < 12 || !bytes.Equal(reply[:4], rec[:4])) {
			t.Fatalf("reply %x to call %x", reply[:min(len(reply), 16)], rec[:min(len(rec), 16)])
		}
		if n := s.server().Panics(); n != 0 {
			t.Fatalf("%d calls panicked", n)
		}
	})
}
