package nfsroot

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nfs "github.com/willscott/go-nfs"

	"github.com/bootrig/bootrig/internal/oncrpc"
)

// TestAllowRefuses checks that a client outside Allow is disconnected
// before any call and logged.
func TestAllowRefuses(t *testing.T) {
	h := start(t, t.TempDir(), &Server{Allow: []netip.Prefix{netip.MustParsePrefix("10.9.9.0/24")}})
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	msg := binary.BigEndian.AppendUint32(nil, 0x80000028)
	msg = append(msg, make([]byte, 40)...)
	c.Write(msg)
	if n, err := c.Read(make([]byte, 100)); err == nil || n != 0 {
		t.Errorf("refused client read %d bytes, err %v; want the connection closed", n, err)
	}
	if !strings.Contains(h.logs.String(), `refused client not in --allow" client=127.0.0.1:`) {
		t.Errorf("refusal not logged:\n%s", h.logs)
	}
}

// TestReadOnly checks that every change is refused with ROFS and reads
// still work.
func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "f"), []byte("data"))
	h := start(t, dir, &Server{ReadOnly: true})
	c := dial(t, h.addr)
	root := c.mount("/")
	f := c.mustLookup(root, "f")
	rofs := nfs.NFSStatusROFS
	if st, _ := c.create(root, "new", createUnchecked, sattrNone); st != rofs {
		t.Errorf("CREATE: %v", st)
	}
	if st, _ := c.mkdir(root, "d"); st != rofs {
		t.Errorf("MKDIR: %v", st)
	}
	if st := c.write(f, 0, []byte("x"), fileSync); st != rofs {
		t.Errorf("WRITE: %v", st)
	}
	if st := c.setattr(f, sattrMode(0o777)); st != rofs {
		t.Errorf("SETATTR: %v", st)
	}
	if st := c.dirop(nfs.NFSProcedureRemove, root, "f"); st != rofs {
		t.Errorf("REMOVE: %v", st)
	}
	if st := c.rename(root, "f", root, "g"); st != rofs {
		t.Errorf("RENAME: %v", st)
	}
	if st := c.link(f, root, "g"); st != rofs {
		t.Errorf("LINK: %v", st)
	}
	if st, data := c.read(f, 0, 10); st != nfs.NFSStatusOk || string(data) != "data" {
		t.Errorf("READ: %v %q", st, data)
	}
}

// TestUDP serves MOUNT and NFS calls over UDP (old kernels mount so).
func TestUDP(t *testing.T) {
	dir := t.TempDir()
	h := start(t, dir, nil)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.srv.ServePacket(pc) }()
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e := &encoder{}
	for _, v := range []uint32{77, oncrpc.Call, 2, oncrpc.ProgMount, 3, uint32(nfs.MountProcMount), authNone, 0, authNone, 0} {
		e.Uint32(v)
	}
	e.String("/")
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write(e.B)
	buf := make([]byte, 1000)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder(buf[:n])
	words := []uint32{d.Uint32(), d.Uint32(), d.Uint32(), d.Uint32(), d.Uint32(), d.Uint32(), d.Uint32()}
	if fh := d.Opaque(64); words[0] != 77 || words[5] != oncrpc.Success || words[6] != 0 || string(fh) != string(h.x.RootHandle()) {
		t.Errorf("MNT over UDP: %v %x", words, fh)
	}
	h.stop()
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("ServePacket after Shutdown: %v", err)
	}
}

// TestShutdownClosesConnections checks that Shutdown closes live
// connections (go-nfs cannot) and Serve returns ErrServerClosed.
func TestShutdownClosesConnections(t *testing.T) {
	h := start(t, t.TempDir(), nil)
	c := dial(t, h.addr)
	c.call(oncrpc.ProgNFS, 0, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.br.ReadByte(); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Errorf("read after Shutdown: %v, want EOF", err)
	}
	if _, err := net.Dial("tcp", h.addr); err == nil {
		t.Errorf("dial after Shutdown succeeded")
	}
}
