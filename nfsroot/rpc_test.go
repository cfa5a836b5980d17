package nfsroot

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"testing"

	nfs "github.com/willscott/go-nfs"
)

// TestRPCReplies checks that every call the server does not serve gets
// a well-formed RPC reply (RFC 5531) that says why.
func TestRPCReplies(t *testing.T) {
	h := start(t, t.TempDir(), nil)
	c := dial(t, h.addr)
	hdr := func(xid, rpcvers, prog, vers, proc, flavor uint32) *encoder {
		e := &encoder{}
		for _, v := range []uint32{xid, rpcCall, rpcvers, prog, vers, proc, flavor, 0, authNone, 0} {
			e.uint32(v)
		}
		return e
	}
	tests := []struct {
		name string
		msg  []byte
		want []uint32 // reply words after the xid
	}{
		{"null", hdr(1, 2, ProgNFS, 3, 0, authNone).b, []uint32{rpcReply, msgAccepted, authNone, 0, acceptSuccess}},
		{"unknown program", hdr(2, 2, 100227, 3, 0, authNone).b, []uint32{rpcReply, msgAccepted, authNone, 0, acceptProgUnavail}},
		{"NLM", hdr(3, 2, 100021, 4, 0, authNone).b, []uint32{rpcReply, msgAccepted, authNone, 0, acceptProgUnavail}},
		{"NFSv2", hdr(4, 2, ProgNFS, 2, 0, authNone).b, []uint32{rpcReply, msgAccepted, authNone, 0, acceptProgMismatch, 3, 3}},
		{"NFSv4", hdr(5, 2, ProgNFS, 4, 0, authNone).b, []uint32{rpcReply, msgAccepted, authNone, 0, acceptProgMismatch, 3, 3}},
		{"MOUNTv1", hdr(6, 2, ProgMount, 1, 0, authNone).b, []uint32{rpcReply, msgAccepted, authNone, 0, acceptProgMismatch, 3, 3}},
		{"NFS proc 22", hdr(7, 2, ProgNFS, 3, 22, authNone).b, []uint32{rpcReply, msgAccepted, authNone, 0, acceptProcUnavail}},
		{"MOUNT proc 6", hdr(8, 2, ProgMount, 3, 6, authNone).b, []uint32{rpcReply, msgAccepted, authNone, 0, acceptProcUnavail}},
		{"RPC version 3", hdr(9, 3, ProgNFS, 3, 0, authNone).b, []uint32{rpcReply, msgDenied, rejectRPCMismatch, 2, 2}},
		{"RPCSEC_GSS", hdr(10, 2, ProgNFS, 3, 0, 6).b, []uint32{rpcReply, msgDenied, rejectAuthError, authTooWeak}},
		{"GETATTR without handle", hdr(11, 2, ProgNFS, 3, 1, authNone).b, []uint32{rpcReply, msgAccepted, authNone, 0, acceptGarbageArgs}},
		{"MNT path too long", append(hdr(12, 2, ProgMount, 3, 1, authNone).b, binary.BigEndian.AppendUint32(nil, 5000)...), []uint32{rpcReply, msgAccepted, authNone, 0, acceptGarbageArgs}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.send(tc.msg); err != nil {
				t.Fatal(err)
			}
			rec, err := readRecord(c.br)
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
		d := c.call(ProgMount, uint32(nfs.MountProcMount), args(func(e *encoder) { e.string(p) }))
		if st := d.uint32(); st != uint32(nfs.MountStatusErrNoEnt) {
			t.Errorf("MNT %q: status %d, want MNT3ERR_NOENT", p, st)
		}
	}
	if !strings.Contains(h.logs.String(), "MOUNT of a path not exported") {
		t.Errorf("refused MNT not logged:\n%s", h.logs)
	}
	d := c.call(ProgMount, uint32(nfs.MountProcExport), nil)
	var exports []string
	for d.bool() {
		ex := d.string(1024)
		for d.bool() {
			ex += " " + d.string(255)
		}
		exports = append(exports, ex)
	}
	if want := []string{"/ 127.0.0.0/8", dir + " 127.0.0.0/8"}; !slices.Equal(exports, want) || d.err != nil {
		t.Errorf("EXPORT: %q (%v), want %q", exports, d.err, want)
	}
	dump := func() []string {
		d := c.call(ProgMount, uint32(nfs.MountProcDump), nil)
		var out []string
		for d.bool() {
			out = append(out, d.string(255)+":"+d.string(1024))
		}
		slices.Sort(out)
		return out
	}
	if got, want := dump(), []string{"127.0.0.1:/", "127.0.0.1:/etc", "127.0.0.1:" + dir}; !slices.Equal(got, want) {
		t.Errorf("DUMP: %q, want %q", got, want)
	}
	c.call(ProgMount, uint32(nfs.MountProcUmnt), args(func(e *encoder) { e.string("/etc") }))
	if got, want := dump(), []string{"127.0.0.1:/", "127.0.0.1:" + dir}; !slices.Equal(got, want) {
		t.Errorf("DUMP after UMNT /etc: %q, want %q", got, want)
	}
	c.call(ProgMount, uint32(nfs.MountProcUmntAll), nil)
	if got := dump(); len(got) != 0 {
		t.Errorf("DUMP after UMNTALL: %q, want none", got)
	}
}
