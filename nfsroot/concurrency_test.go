package nfsroot

import (
	"bytes"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	nfs "github.com/willscott/go-nfs"

	"github.com/bootrig/bootrig/internal/oncrpc"
)

// TestConcurrentWritesOneConnection sends 64 WRITEs, each overlapping
// the next, on one connection without waiting for replies (as Linux
// sends a mount's calls), holding the first in the server until the
// other 63 are answered: calls on one connection are served
// concurrently, and the file holds exactly what was written, whatever
// the order the writes ran in (overlapping bytes are the same in both).
func TestConcurrentWritesOneConnection(t *testing.T) {
	const (
		n    = 64
		size = 64 << 10
		step = 48 << 10
	)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "f.bin"), nil)
	hold, release := make(chan struct{}), make(chan struct{})
	var firstXID uint32
	srv := &Server{Hooks: oncrpc.Hooks{Call: func(h oncrpc.Header, _ net.Addr) {
		// Blocks only the goroutine serving the held call.
		if h.XID == firstXID && h.Proc == uint32(nfs.NFSProcedureWrite) {
			close(hold)
			<-release
		}
	}}}
	h := start(t, dir, srv)
	c := dial(t, h.addr)
	fh := c.mustLookup(c.mount("/"), "f.bin")
	want := make([]byte, (n-1)*step+size)
	for i := range want {
		want[i] = byte(i*7 + i>>10)
	}
	firstXID = c.xid + 1
	for i := range n {
		off := i * step
		stable := uint32(unstable)
		if i%8 == 7 {
			stable = fileSync
		}
		c.xid++
		msg := c.callMsg(c.xid, oncrpc.ProgNFS, 3, uint32(nfs.NFSProcedureWrite), args(func(e *encoder) {
			e.Opaque(fh)
			e.Uint64(uint64(off))
			e.Uint32(size)
			e.Uint32(stable)
			e.Opaque(want[off : off+size])
		}))
		if err := c.send(msg); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			<-hold
		}
	}
	reply := func() uint32 {
		c.c.SetReadDeadline(time.Now().Add(30 * time.Second))
		rec, err := oncrpc.ReadRecord(c.br, maxRecord)
		if err != nil {
			t.Fatalf("reading a WRITE reply: %v", err)
		}
		d := newDecoder(rec[8:])
		d.Uint32()
		d.Uint32()
		d.Opaque(400)
		d.Uint32()
		if st := nfs.NFSStatus(d.Uint32()); st != nfs.NFSStatusOk {
			t.Errorf("WRITE xid %d: %v", binary.BigEndian.Uint32(rec), st)
		}
		return binary.BigEndian.Uint32(rec)
	}
	for range n - 1 {
		if xid := reply(); xid == firstXID {
			t.Fatalf("the held WRITE was answered before it was released")
		}
	}
	close(release)
	if xid := reply(); xid != firstXID {
		t.Fatalf("last reply xid %d, want the held WRITE's %d", xid, firstXID)
	}
	d := c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureCommit), args(func(e *encoder) { e.Opaque(fh); e.Uint64(0); e.Uint32(0) }))
	if st := nfs.NFSStatus(d.Uint32()); st != nfs.NFSStatusOk {
		t.Fatalf("COMMIT: %v", st)
	}
	got, err := os.ReadFile(filepath.Join(dir, "f.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Fatalf("file has %d bytes, want %d; first difference at byte %d", len(got), len(want), i)
	}
}
