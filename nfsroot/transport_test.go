package nfsroot

import (
	"bufio"
	"errors"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	nfs "github.com/willscott/go-nfs"

	"github.com/bootrig/bootrig/internal/oncrpc"
)

// replyWords is a reply's header words after the xid: reply, accepted or
// denied, then the accept_stat (after the verifier) or the reject words.
func replyWords(t *testing.T, rec []byte) []uint32 {
	t.Helper()
	d := newDecoder(rec[4:])
	w := []uint32{d.Uint32(), d.Uint32()}
	if w[1] == oncrpc.MsgAccepted {
		d.Uint32()
		d.Opaque(400)
		return append(w, d.Uint32())
	}
	return append(w, d.Uint32(), d.Uint32())
}

// privilegedDial connects from a free source port below 1024 (the
// tests run as root, as CI does).
func privilegedDial(t *testing.T, addr string) *client {
	t.Helper()
	for port := 1023; port >= 600; port-- {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}}
		c, err := d.Dial("tcp", addr)
		if errors.Is(err, syscall.EADDRINUSE) {
			continue
		}
		if err != nil {
			t.Fatalf("dial from port %d: %v", port, err)
		}
		t.Cleanup(func() { c.Close() })
		return &client{t: t, c: c, br: bufio.NewReader(c)}
	}
	t.Fatal("no free port below 1024")
	return nil
}

// TestSecurePorts: by default, as knfsd's "secure" and mountd, every NFS
// call but NULL, and MOUNT's MNT, from a source port >= 1024 is refused
// with AUTH_ERROR / AUTH_TOOWEAK (and logged), while a privileged port is
// served; InsecurePorts serves both.
func TestSecurePorts(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "etc", "hostname"), []byte("board\n"))
	h := serve(t, dir, &Server{})
	tooWeak := []uint32{oncrpc.Reply, oncrpc.MsgDenied, oncrpc.AuthError, oncrpc.AuthTooWeak}
	c := dial(t, h.addr)
	mnt := args(func(e *encoder) { e.String("/") })
	root := h.x.RootHandle()
	getattr := args(func(e *encoder) { e.Opaque(root) })
	for _, tc := range []struct {
		name       string
		prog, proc uint32
		args       []byte
	}{
		{"MNT", oncrpc.ProgMount, uint32(nfs.MountProcMount), mnt},
		{"GETATTR", oncrpc.ProgNFS, uint32(nfs.NFSProcedureGetAttr), getattr},
		{"READDIRPLUS", oncrpc.ProgNFS, uint32(nfs.NFSProcedureReadDirPlus), args(func(e *encoder) {
			e.Opaque(root)
			e.Uint64(0)
			e.Uint64(0)
			e.Uint32(4096)
			e.Uint32(65536)
		})},
	} {
		if got := replyWords(t, c.rawCall(tc.prog, 3, tc.proc, tc.args)); !slices.Equal(got, tooWeak) {
			t.Errorf("%s from port %s: reply %v, want AUTH_TOOWEAK %v", tc.name, c.c.LocalAddr(), got, tooWeak)
		}
	}
	c.call(oncrpc.ProgNFS, 0, nil) // NULL and showmount's EXPORT are answered
	c.call(oncrpc.ProgMount, uint32(nfs.MountProcExport), nil)
	if !strings.Contains(h.logs.String(), "non-privileged port") {
		t.Errorf("refusal not logged:\n%s", h.logs)
	}
	p := privilegedDial(t, h.addr)
	if st, data := p.read(p.mustLookup(p.mount("/"), "etc", "hostname"), 0, 100); st != nfs.NFSStatusOk || string(data) != "board\n" {
		t.Errorf("READ from privileged port %s: %v %q", p.c.LocalAddr(), st, data)
	}

	h.stop()
	h2 := start(t, dir, nil) // InsecurePorts
	c2 := dial(t, h2.addr)
	if st, _ := c2.getattr(c2.mount("/")); st != nfs.NFSStatusOk {
		t.Errorf("GETATTR from port %s with InsecurePorts: %v", c2.c.LocalAddr(), st)
	}
}

// udpCall sends one call as a datagram to addr and returns the reply.
func udpCall(t *testing.T, addr string, prog, proc uint32, a []byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write((&client{}).callMsg(9, prog, 3, proc, a)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("UDP call %d.%d: %v", prog, proc, err)
	}
	return buf[:n]
}

// TestNFSOverUDP: over UDP, whose source addresses anyone can forge past
// the allow list, NFS is PROG_UNAVAIL unless NFSOverUDP; MOUNT is served
// either way.
func TestNFSOverUDP(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "f"), []byte("data"))
	for _, on := range []bool{false, true} {
		h := start(t, dir, &Server{NFSOverUDP: on})
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go h.srv.ServePacket(pc)
		addr := pc.LocalAddr().String()
		if got := replyWords(t, udpCall(t, addr, oncrpc.ProgMount, uint32(nfs.MountProcMount), args(func(e *encoder) { e.String("/") }))); got[2] != oncrpc.Success {
			t.Errorf("NFSOverUDP %v: MNT over UDP: %v", on, got)
		}
		want := uint32(oncrpc.ProgUnavail)
		if on {
			want = oncrpc.Success
		}
		for _, proc := range []nfs.NFSProcedure{nfs.NFSProcedureNull, nfs.NFSProcedureGetAttr, nfs.NFSProcedureWrite} {
			a := args(func(e *encoder) {
				e.Opaque(h.x.RootHandle())
				e.Uint64(0)
				e.Uint32(1)
				e.Uint32(fileSync)
				e.Opaque([]byte("x"))
			})
			if got := replyWords(t, udpCall(t, addr, oncrpc.ProgNFS, uint32(proc), a)); got[2] != want {
				t.Errorf("NFSOverUDP %v: NFS procedure %d over UDP: %v, want accept_stat %d", on, proc, got, want)
			}
		}
		h.stop()
	}
}
