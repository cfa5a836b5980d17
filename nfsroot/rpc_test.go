package nfsroot

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"testing"

	nfs "github.com/willscott/go-nfs"

	"github.com/bootrig/bootrig/internal/oncrpc"
)

// TestRPCReplies checks that every call the server does not serve gets
// a well-formed RPC reply (RFC 5531) that says why.
func TestRPCReplies(t *testing.T) {
	h := start(t, t.TempDir(), nil)
	c := dial(t, h.addr)
	hdr := func(xid, rpcvers, prog, vers, proc, flavor uint32) *encoder {
		e := &encoder{}
		for _, v := range []uint32{xid, oncrpc.Call, rpcvers, prog, vers, proc, flavor, 0, authNone, 0} {
			e.Uint32(v)
		}
		return e
	}
	tests := []struct {
		name string
		msg  []byte
		want []uint32 // reply words after the xid
	}{
		{"null", hdr(1, 2, oncrpc.ProgNFS, 3, 0, authNone).B, []uint32{oncrpc.Reply, oncrpc.MsgAccepted, authNone, 0, oncrpc.Success}},
		{"unknown program", hdr(2, 2, 100227, 3, 0, authNone).B, []uint32{oncrpc.Reply, oncrpc.MsgAccepted, authNone, 0, oncrpc.ProgUnavail}},
		{"NLM", hdr(3, 2, 100021, 4, 0, authNone).B, []uint32{oncrpc.Reply, oncrpc.MsgAccepted, authNone, 0, oncrpc.ProgUnavail}},
		{"NFSv2", hdr(4, 2, oncrpc.ProgNFS, 2, 0, authNone).B, []uint32{oncrpc.Reply, oncrpc.MsgAccepted, authNone, 0, oncrpc.ProgMismatch, 3, 3}},
		{"NFSv4", hdr(5, 2, oncrpc.ProgNFS, 4, 0, authNone).B, []uint32{oncrpc.Reply, oncrpc.MsgAccepted, authNone, 0, oncrpc.ProgMismatch, 3, 3}},
		{"MOUNTv1", hdr(6, 2, oncrpc.ProgMount, 1, 0, authNone).B, []uint32{oncrpc.Reply, oncrpc.MsgAccepted, authNone, 0, oncrpc.ProgMismatch, 3, 3}},
		{"NFS proc 22", hdr(7, 2, oncrpc.ProgNFS, 3, 22, authNone).B, []uint32{oncrpc.Reply, oncrpc.MsgAccepted, authNone, 0, oncrpc.ProcUnavail}},
		{"MOUNT proc 6", hdr(8, 2, oncrpc.ProgMount, 3, 6, authNone).B, []uint32{oncrpc.Reply, oncrpc.MsgAccepted, authNone, 0, oncrpc.ProcUnavail}},
		{"RPC version 3", hdr(9, 3, oncrpc.ProgNFS, 3, 0, authNone).B, []uint32{oncrpc.Reply, oncrpc.MsgDenied, oncrpc.RPCMismatch, 2, 2}},
		{"RPCSEC_GSS", hdr(10, 2, oncrpc.ProgNFS, 3, 0, 6).B, []uint32{oncrpc.Reply, oncrpc.MsgDenied, oncrpc.AuthError, oncrpc.AuthTooWeak}},
		{"GETATTR without handle", hdr(11, 2, oncrpc.ProgNFS, 3, 1, authNone).B, []uint32{oncrpc.Reply, oncrpc.MsgAccepted, authNone, 0, oncrpc.GarbageArgs}},
		{"MNT path too long", append(hdr(12, 2, oncrpc.ProgMount, 3, 1, authNone).B, binary.BigEndian.AppendUint32(nil, 5000)...), []uint32{oncrpc.Reply, oncrpc.MsgAccepted, authNone, 0, oncrpc.GarbageArgs}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.send(tc.msg); err != nil {
				t.Fatal(err)
			}
			rec, err := oncrpc.ReadRecord(c.br, maxRecord)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint32
			for i := 4; i+4 <= len(rec); i += 4 {
				got = append(got, binary.BigEndian.Uint32(rec[i:]))
			}
			if binary.BigEndian.Uint32(rec) != binary.BigEndian.Uint32(tc.msg) || !slices.Equal(got, tc.want) {
				t.Errorf("reply %v (xid %d), want %v", got, binary.BigEndian.Uint32(rec), tc.want)
			}
		})
	}
}

// TestMount covers MNT of the accepted paths and refusals, EXPORT, DUMP,
// UMNT and UMNTALL.
func TestMount(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/etc/hostname", []byte("board\n"))
	h := start(t, dir, &Server{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	c := dial(t, h.addr)
	root := h.x.RootHandle()
	for _, p := range []string{"/", dir, dir + "/", "//"} {
		if got := c.mount(p); string(got) != string(root) {
			t.Errorf("MNT %q: handle %x, want the root's %x", p, got, root)
		}
	}
	if got, want := c.mount("/etc"), c.mustLookup(root, "etc"); string(got) != string(want) {
		t.Errorf("MNT /etc: handle %x, want %x", got, want)
	}
	for _, p := range []string{"/nonexistent", "/home/someone/rootfs", "/etc/hostname", dir + "x", "/lib"} {
		d := c.call(oncrpc.ProgMount, uint32(nfs.MountProcMount), args(func(e *encoder) { e.String(p) }))
		if st := d.Uint32(); st != uint32(nfs.MountStatusErrNoEnt) {
			t.Errorf("MNT %q: status %d, want MNT3ERR_NOENT", p, st)
		}
	}
	if !strings.Contains(h.logs.String(), "MOUNT of a path not exported") {
		t.Errorf("refused MNT not logged:\n%s", h.logs)
	}
	d := c.call(oncrpc.ProgMount, uint32(nfs.MountProcExport), nil)
	var exports []string
	for d.Bool() {
		ex := d.String(1024)
		for d.Bool() {
			ex += " " + d.String(255)
		}
		exports = append(exports, ex)
	}
	if want := []string{"/ 127.0.0.0/8", dir + " 127.0.0.0/8"}; !slices.Equal(exports, want) || d.Err() != nil {
		t.Errorf("EXPORT: %q (%v), want %q", exports, d.Err(), want)
	}
	dump := func() []string {
		d := c.call(oncrpc.ProgMount, uint32(nfs.MountProcDump), nil)
		var out []string
		for d.Bool() {
			out = append(out, d.String(255)+":"+d.String(1024))
		}
		slices.Sort(out)
		return out
	}
	if got, want := dump(), []string{"127.0.0.1:/", "127.0.0.1:/etc", "127.0.0.1:" + dir}; !slices.Equal(got, want) {
		t.Errorf("DUMP: %q, want %q", got, want)
	}
	c.call(oncrpc.ProgMount, uint32(nfs.MountProcUmnt), args(func(e *encoder) { e.String("/etc") }))
	if got, want := dump(), []string{"127.0.0.1:/", "127.0.0.1:" + dir}; !slices.Equal(got, want) {
		t.Errorf("DUMP after UMNT /etc: %q, want %q", got, want)
	}
	c.call(oncrpc.ProgMount, uint32(nfs.MountProcUmntAll), nil)
	if got := dump(); len(got) != 0 {
		t.Errorf("DUMP after UMNTALL: %q, want none", got)
	}
}
