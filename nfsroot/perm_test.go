package nfsroot

import (
	"path/filepath"
	"strings"
	"testing"

	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"

	"github.com/bootrig/bootrig/internal/oncrpc"
)

// permTree is a tree the board's root made, with the owners and modes
// the permission cases need:
//
//	home     1000:100 0755    home/f     1000:100 0644
//	                          home/suid  1000:100 06755
//	                          home/open  1000:100 0666
//	                          home/sub   1000:100 0755 (directory)
//	sys      0:0      0755    sys/x      0:0      0600
//	tmp      0:0      01777   tmp/a      1000:100 0644, tmp/b 1001:101 0644
//	sgid     0:300    02777
//	private  1001:101 0700    private/p  1001:101 0644
//	noread   1000:100 0311
//	pub      0:0      0777    pub/rootdir 0:0 0755 (directory)
type permTree struct {
	h    *harness
	c    *client // as root
	root []byte
}

type permEntry struct {
	path     string
	dir      bool
	uid, gid uint32
	mode     uint32
}

var permEntries = []permEntry{
	{"home", true, 1000, 100, 0o755},
	{"home/f", false, 1000, 100, 0o644},
	{"home/suid", false, 1000, 100, 0o6755},
	{"home/open", false, 1000, 100, 0o666},
	{"home/sub", true, 1000, 100, 0o755},
	{"sys", true, 0, 0, 0o755},
	{"sys/x", false, 0, 0, 0o600},
	{"tmp", true, 0, 0, 0o1777},
	{"tmp/a", false, 1000, 100, 0o644},
	{"tmp/b", false, 1001, 101, 0o644},
	{"sgid", true, 0, 300, 0o2777},
	{"private", true, 1001, 101, 0o700},
	{"private/p", false, 1001, 101, 0o644},
	{"noread", true, 1000, 100, 0o311},
	{"pub", true, 0, 0, 0o777},
	{"pub/rootdir", true, 0, 0, 0o755},
}

func newPermTree(t *testing.T, srv *Server, real bool) *permTree {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rootfs")
	writeFile(t, filepath.Join(dir, ".keep"), nil)
	// Made through a server of its own: srv may squash root.
	mk := start(t, dir, &Server{Export: openExport(t, dir, ExportOptions{RealOwnership: real})})
	tr := &permTree{h: mk, c: dial(t, mk.addr)}
	tr.root = tr.c.mount("/")
	tr.c.setattr(tr.root, sattrMode(0o755))
	for _, e := range permEntries {
		parent, name := tr.root, e.path
		if i := strings.LastIndex(e.path, "/"); i >= 0 {
			parent, name = tr.lookup(e.path[:i]), e.path[i+1:]
		}
		var st nfs.NFSStatus
		var fh []byte
		if e.dir {
			st, fh = tr.c.mkdir(parent, name)
		} else {
			st, fh = tr.c.create(parent, name, createUnchecked, sattrNone)
			tr.c.write(fh, 0, []byte("data"), fileSync)
		}
		if st != nfs.NFSStatusOk {
			t.Fatalf("making %s: %v", e.path, st)
		}
		tr.c.setattr(fh, sattrOwner(e.uid, e.gid))
		tr.c.setattr(fh, sattrMode(e.mode))
		if _, a := tr.c.getattr(fh); a.uid != e.uid || a.gid != e.gid || a.mode != e.mode {
			t.Fatalf("%s: %+v, want %d:%d %o", e.path, a, e.uid, e.gid, e.mode)
		}
	}
	mk.stop()
	srv.Export = openExport(t, dir, ExportOptions{RealOwnership: real})
	tr.h = start(t, dir, srv)
	tr.c = dial(t, tr.h.addr)
	tr.root = tr.c.mount("/")
	return tr
}

// lookup is the handle of a slash-separated path, as root.
func (tr *permTree) lookup(path string) []byte {
	return tr.c.mustLookup(tr.root, strings.Split(path, "/")...)
}

// attr is a path's attributes as root sees them (nil: no such path;
// with --root-squash, as the anonymous user).
func (tr *permTree) attr(path string) *attr3 {
	h := tr.root
	for _, n := range strings.Split(path, "/") {
		st, nh := tr.c.lookup(h, n)
		if st != nfs.NFSStatusOk {
			return nil
		}
		h = nh
	}
	_, a := tr.c.getattr(h)
	return &a
}

// as is a connection with the caller's credentials.
func (tr *permTree) as(uid, gid uint32, gids ...uint32) *client {
	c := dial(tr.h.t, tr.h.addr)
	c.uid, c.gid, c.gids = uid, gid, gids
	return c
}

var (
	user  = [3]uint32{1000, 100, 200} // uid, gid, supplementary group
	other = [3]uint32{1001, 101, 0}
)

func (tr *permTree) who(w [3]uint32) *client {
	if w[2] == 0 {
		return tr.as(w[0], w[1])
	}
	return tr.as(w[0], w[1], w[2])
}

// permCase is one system call of one caller, the status it must get and
// what must hold after (as root sees it).
type permCase struct {
	name  string
	who   [3]uint32 // uid, gid, supplementary group (0: none); uid 0 is root
	do    func(c *client, tr *permTree) nfs.NFSStatus
	want  nfs.NFSStatus
	after func(t *testing.T, tr *permTree)
}

func wantAttr(path string, uid, gid, mode uint32) func(*testing.T, *permTree) {
	return func(t *testing.T, tr *permTree) {
		t.Helper()
		if a := tr.attr(path); a == nil || a.uid != uid || a.gid != gid || a.mode != mode {
			t.Errorf("%s: %+v, want %d:%d mode %o", path, a, uid, gid, mode)
		}
	}
}

func wantGone(path string, gone bool) func(*testing.T, *permTree) {
	return func(t *testing.T, tr *permTree) {
		t.Helper()
		if a := tr.attr(path); (a == nil) != gone {
			t.Errorf("%s: exists %v, want %v", path, a != nil, !gone)
		}
	}
}

func setattrOf(path string, sa func(*encoder)) func(*client, *permTree) nfs.NFSStatus {
	return func(c *client, tr *permTree) nfs.NFSStatus { return c.setattr(tr.lookup(path), sa) }
}

func sattrGID(gid uint32) func(*encoder) {
	return func(e *encoder) {
		e.Bool(false)
		e.Bool(false)
		e.Bool(true)
		e.Uint32(gid)
		e.Bool(false)
		e.Uint32(timeDont)
		e.Uint32(timeDont)
	}
}

func sattrUID(uid uint32) func(*encoder) {
	return func(e *encoder) {
		e.Bool(false)
		e.Bool(true)
		e.Uint32(uid)
		e.Bool(false)
		e.Bool(false)
		e.Uint32(timeDont)
		e.Uint32(timeDont)
	}
}

func createIn(dir, name string, mode uint32) func(*client, *permTree) nfs.NFSStatus {
	return func(c *client, tr *permTree) nfs.NFSStatus {
		st, _ := c.create(tr.lookup(dir), name, createUnchecked, sattrMode(mode))
		return st
	}
}

func diropIn(proc nfs.NFSProcedure, dir, name string) func(*client, *permTree) nfs.NFSStatus {
	return func(c *client, tr *permTree) nfs.NFSStatus { return c.dirop(proc, tr.lookup(dir), name) }
}

var permCases = []permCase{
	// SETATTR (issue 20 point 1).
	{"chmod by a non-owner", other, setattrOf("home/f", sattrMode(0o777)), nfs.NFSStatusPerm, wantAttr("home/f", 1000, 100, 0o644)},
	{"chmod by the owner", user, setattrOf("home/f", sattrMode(0o600)), nfs.NFSStatusOk, wantAttr("home/f", 1000, 100, 0o600)},
	{"chmod by root", [3]uint32{}, setattrOf("home/f", sattrMode(0o4711)), nfs.NFSStatusOk, wantAttr("home/f", 1000, 100, 0o4711)},
	{"chown by the owner to another uid", user, setattrOf("home/f", sattrUID(1001)), nfs.NFSStatusPerm, wantAttr("home/f", 1000, 100, 0o644)},
	{"chown by a non-owner to its own uid", other, setattrOf("home/f", sattrUID(1001)), nfs.NFSStatusPerm, wantAttr("home/f", 1000, 100, 0o644)},
	{"chown by the owner to itself", user, setattrOf("home/f", sattrUID(1000)), nfs.NFSStatusOk, wantAttr("home/f", 1000, 100, 0o644)},
	{"chgrp by the owner to a group it is in", user, setattrOf("home/f", sattrGID(200)), nfs.NFSStatusOk, wantAttr("home/f", 1000, 200, 0o644)},
	{"chgrp by the owner to a group it is not in", user, setattrOf("home/f", sattrGID(300)), nfs.NFSStatusPerm, wantAttr("home/f", 1000, 100, 0o644)},
	{"chgrp by a non-owner", other, setattrOf("home/f", sattrGID(101)), nfs.NFSStatusPerm, wantAttr("home/f", 1000, 100, 0o644)},
	{"chown by root", [3]uint32{}, setattrOf("home/f", sattrOwner(1001, 101)), nfs.NFSStatusOk, wantAttr("home/f", 1001, 101, 0o644)},
	{"explicit times by a non-owner who may write", other, setattrOf("home/open", sattrTimes(timeClient, 1e9)), nfs.NFSStatusPerm, nil},
	{"times to now by a non-owner who may write", other, setattrOf("home/open", sattrTimes(timeServer, 0)), nfs.NFSStatusOk, nil},
	{"times to now by a non-owner who may not write", other, setattrOf("home/f", sattrTimes(timeServer, 0)), nfs.NFSStatusAccess, nil},
	{"explicit times by the owner", user, setattrOf("home/f", sattrTimes(timeClient, 1e9)), nfs.NFSStatusOk, nil},
	{"truncate by a non-owner who may not write", other, setattrOf("home/f", sattrSize(0)), nfs.NFSStatusAccess, nil},
	{"chmod of a root file by root squashed", [3]uint32{0, 0, 1}, setattrOf("sys/x", sattrMode(0o666)), nfs.NFSStatusPerm, wantAttr("sys/x", 0, 0, 0o600)},

	// setuid and setgid clearing (issue 20 point 3).
	{"chown by the owner clears setuid and setgid", user, setattrOf("home/suid", sattrGID(200)), nfs.NFSStatusOk, wantAttr("home/suid", 1000, 200, 0o755)},
	{"chown by root clears setuid and group-exec setgid", [3]uint32{}, setattrOf("home/suid", sattrOwner(1001, 101)), nfs.NFSStatusOk, wantAttr("home/suid", 1001, 101, 0o755)},
	{"chmod g+s by an owner not in the group drops setgid", other, func(c *client, tr *permTree) nfs.NFSStatus {
		st, fh := c.create(tr.lookup("tmp"), "mine", createUnchecked, sattrMode(0o644))
		if st != nfs.NFSStatusOk {
			return st
		}
		tr.c.setattr(fh, sattrGID(300))
		return c.setattr(fh, sattrMode(0o2755))
	}, nfs.NFSStatusOk, wantAttr("tmp/mine", 1001, 300, 0o755)},
	{"write by a non-owner clears setuid and setgid", other, func(c *client, tr *permTree) nfs.NFSStatus {
		fh := tr.lookup("home/suid")
		tr.c.setattr(fh, sattrMode(0o6777))
		return c.write(fh, 0, []byte("x"), fileSync)
	}, nfs.NFSStatusOk, wantAttr("home/suid", 1000, 100, 0o777)},
	{"write by root keeps setuid", [3]uint32{}, func(c *client, tr *permTree) nfs.NFSStatus {
		return c.write(tr.lookup("home/suid"), 0, []byte("x"), fileSync)
	}, nfs.NFSStatusOk, wantAttr("home/suid", 1000, 100, 0o6755)},
	{"truncate by the owner clears setuid", user, setattrOf("home/suid", sattrSize(0)), nfs.NFSStatusOk, wantAttr("home/suid", 1000, 100, 0o755)},

	// Reads and writes.
	{"write by a non-owner without write permission", other, func(c *client, tr *permTree) nfs.NFSStatus {
		return c.write(tr.lookup("home/f"), 0, []byte("x"), fileSync)
	}, nfs.NFSStatusAccess, nil},
	{"read by a non-owner without read permission", user, func(c *client, tr *permTree) nfs.NFSStatus {
		st, _ := c.read(tr.lookup("sys/x"), 0, 10)
		return st
	}, nfs.NFSStatusAccess, nil},
	{"read of an execute-only file", other, func(c *client, tr *permTree) nfs.NFSStatus {
		fh := tr.lookup("home/f")
		tr.c.setattr(fh, sattrMode(0o711))
		st, _ := c.read(fh, 0, 10)
		return st
	}, nfs.NFSStatusOk, nil},
	{"read by the owner of a mode 0 file", user, func(c *client, tr *permTree) nfs.NFSStatus {
		fh := tr.lookup("home/f")
		tr.c.setattr(fh, sattrMode(0))
		st, _ := c.read(fh, 0, 10)
		return st
	}, nfs.NFSStatusOk, nil},
	{"lookup in a directory without search permission", user, diropIn(nfs.NFSProcedureLookup, "private", "p"), nfs.NFSStatusAccess, nil},
	{"readdir of a directory without read permission", user, func(c *client, tr *permTree) nfs.NFSStatus {
		st, _ := c.readdirplus(tr.lookup("noread"), 4096, 8192)
		return st
	}, nfs.NFSStatusAccess, nil},

	// The directory (issue 20 point 2).
	{"create in a root directory", user, createIn("sys", "new", 0o644), nfs.NFSStatusAccess, wantGone("sys/new", true)},
	{"create in the caller's directory", user, createIn("home", "new", 0o640), nfs.NFSStatusOk, wantAttr("home/new", 1000, 100, 0o640)},
	{"mkdir in a root directory", user, func(c *client, tr *permTree) nfs.NFSStatus {
		st, _ := c.mkdir(tr.lookup("sys"), "d")
		return st
	}, nfs.NFSStatusAccess, wantGone("sys/d", true)},
	{"symlink in a root directory", user, func(c *client, tr *permTree) nfs.NFSStatus {
		st, _ := c.symlink(tr.lookup("sys"), "l", "x")
		return st
	}, nfs.NFSStatusAccess, wantGone("sys/l", true)},
	{"mknod of a fifo in a root directory", user, func(c *client, tr *permTree) nfs.NFSStatus {
		st, _ := c.mknod(tr.lookup("sys"), "p", nfs.FileTypeFIFO, 0o644, 0, 0)
		return st
	}, nfs.NFSStatusAccess, wantGone("sys/p", true)},
	{"mknod of a device by a user", user, func(c *client, tr *permTree) nfs.NFSStatus {
		st, _ := c.mknod(tr.lookup("home"), "null", nfs.FileTypeCharacter, 0o666, 1, 3)
		return st
	}, nfs.NFSStatusPerm, wantGone("home/null", true)},
	{"mknod of a fifo by a user", user, func(c *client, tr *permTree) nfs.NFSStatus {
		st, _ := c.mknod(tr.lookup("home"), "fifo", nfs.FileTypeFIFO, 0o640, 0, 0)
		return st
	}, nfs.NFSStatusOk, wantAttr("home/fifo", 1000, 100, 0o640)},
	{"remove in a root directory", user, diropIn(nfs.NFSProcedureRemove, "sys", "x"), nfs.NFSStatusAccess, wantGone("sys/x", false)},
	{"rmdir of root's empty directory in a world-writable one", user, diropIn(nfs.NFSProcedureRmDir, "pub", "rootdir"), nfs.NFSStatusOk, wantGone("pub/rootdir", true)},
	{"remove of another's file in a sticky directory", user, diropIn(nfs.NFSProcedureRemove, "tmp", "b"), nfs.NFSStatusPerm, wantGone("tmp/b", false)},
	{"remove of one's own file in a sticky directory", user, diropIn(nfs.NFSProcedureRemove, "tmp", "a"), nfs.NFSStatusOk, wantGone("tmp/a", true)},
	{"remove by root in a sticky directory", [3]uint32{}, diropIn(nfs.NFSProcedureRemove, "tmp", "b"), nfs.NFSStatusOk, wantGone("tmp/b", true)},
	{"rename of another's file in a sticky directory", user, func(c *client, tr *permTree) nfs.NFSStatus {
		return c.rename(tr.lookup("tmp"), "b", tr.lookup("tmp"), "c")
	}, nfs.NFSStatusPerm, wantGone("tmp/b", false)},
	{"rename onto another's file in a sticky directory", user, func(c *client, tr *permTree) nfs.NFSStatus {
		return c.rename(tr.lookup("tmp"), "a", tr.lookup("tmp"), "b")
	}, nfs.NFSStatusPerm, wantAttr("tmp/b", 1001, 101, 0o644)},
	{"rename out of a root directory", user, func(c *client, tr *permTree) nfs.NFSStatus {
		return c.rename(tr.lookup("sys"), "x", tr.lookup("home"), "x")
	}, nfs.NFSStatusAccess, wantGone("sys/x", false)},
	{"rename of another's directory to another parent", user, func(c *client, tr *permTree) nfs.NFSStatus {
		return c.rename(tr.lookup("pub"), "rootdir", tr.lookup("home"), "moved")
	}, nfs.NFSStatusAccess, wantGone("pub/rootdir", false)},
	{"rename of another's directory in the same parent", user, func(c *client, tr *permTree) nfs.NFSStatus {
		return c.rename(tr.lookup("pub"), "rootdir", tr.lookup("pub"), "renamed")
	}, nfs.NFSStatusOk, wantGone("pub/renamed", false)},
	{"link into a root directory", user, func(c *client, tr *permTree) nfs.NFSStatus {
		return c.link(tr.lookup("home/f"), tr.lookup("sys"), "f")
	}, nfs.NFSStatusAccess, wantGone("sys/f", true)},

	// New objects' owners.
	{"create in a setgid directory takes its group", user, createIn("sgid", "f", 0o2755), nfs.NFSStatusOk, wantAttr("sgid/f", 1000, 300, 0o755)},
	{"create in a setgid directory by a member keeps setgid", [3]uint32{1000, 100, 300}, createIn("sgid", "f", 0o2755), nfs.NFSStatusOk, wantAttr("sgid/f", 1000, 300, 0o2755)},
	{"mkdir in a setgid directory inherits setgid", user, func(c *client, tr *permTree) nfs.NFSStatus {
		st, _ := c.created(nfs.NFSProcedureMkDir, tr.lookup("sgid"), "d", sattrMode(0o755))
		return st
	}, nfs.NFSStatusOk, wantAttr("sgid/d", 1000, 300, 0o2755)},
	{"create by a user choosing another owner", user, func(c *client, tr *permTree) nfs.NFSStatus {
		st, _ := c.create(tr.lookup("home"), "o", createUnchecked, sattrOwner(0, 0))
		return st
	}, nfs.NFSStatusOk, wantAttr("home/o", 1000, 100, 0o644)},
	{"create by squashed root", [3]uint32{0, 0, 1}, createIn("pub", "sq", 0o644), nfs.NFSStatusOk, wantAttr("pub/sq", anonID, anonID, 0o644)},
	{"create by AUTH_NONE", [3]uint32{0, 0, 2}, createIn("pub", "anon", 0o644), nfs.NFSStatusOk, wantAttr("pub/anon", anonID, anonID, 0o644)},
}

// client for a case: {0, 0, 1} is root on a --root-squash server, {0,
// 0, 2} an AUTH_NONE caller.
func (tr *permTree) caller(w [3]uint32) *client {
	if w == [3]uint32{0, 0, 2} {
		c := tr.as(0, 0)
		c.noAuth = true
		return c
	}
	if w == [3]uint32{0, 0, 1} {
		return tr.as(0, 0)
	}
	return tr.who(w)
}

// TestPermissions runs each case on a fresh tree, in the overlay and
// with --real-ownership (the tests run as root, as CI does).
func TestPermissions(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Fatal("this test needs root (CI runs the tests as root)")
	}
	for _, real := range []bool{false, true} {
		mode := map[bool]string{false: "overlay", true: "real-ownership"}[real]
		for _, pc := range permCases {
			t.Run(mode+"/"+pc.name, func(t *testing.T) {
				srv := &Server{RootSquash: pc.who == [3]uint32{0, 0, 1}}
				tr := newPermTree(t, srv, real)
				if got := pc.do(tr.caller(pc.who), tr); got != pc.want {
					t.Errorf("status %v, want %v", got, pc.want)
				}
				if pc.after != nil {
					pc.after(t, tr)
				}
			})
		}
	}
}

// TestCtimeMoves checks that every change of attributes moves the ctime
// the board sees, also those only the overlay records (a chown).
func TestCtimeMoves(t *testing.T) {
	for _, real := range []bool{false, true} {
		tr := newPermTree(t, &Server{}, real)
		fh := tr.lookup("home/f")
		for _, ch := range []struct {
			name string
			sa   func(*encoder)
		}{
			{"chown", sattrOwner(1001, 101)},
			{"chgrp to the same group", sattrGID(101)},
			{"chmod", sattrMode(0o640)},
			{"chmod to the same mode", sattrMode(0o640)},
			{"times", sattrTimes(timeClient, 1e9)},
			{"truncate", sattrSize(1)},
		} {
			_, before := tr.c.getattr(fh)
			if st := tr.c.setattr(fh, ch.sa); st != nfs.NFSStatusOk {
				t.Fatalf("%s: %v", ch.name, st)
			}
			if _, after := tr.c.getattr(fh); !after.ctime.after(before.ctime) {
				t.Errorf("real-ownership=%v: %s: ctime %v, was %v: want it moved", real, ch.name, after.ctime, before.ctime)
			}
		}
	}
}

func (c *client) access(h []byte) uint32 {
	d := c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureAccess), args(func(e *encoder) { e.Opaque(h); e.Uint32(0x3f) }))
	if st := nfs.NFSStatus(d.Uint32()); st != nfs.NFSStatusOk {
		c.t.Fatalf("ACCESS: %v", st)
	}
	d.postOpAttr()
	return d.Uint32()
}

// TestAccessAgrees checks that ACCESS answers what the procedures do:
// for callers who do not own the object (ownership lets READ and WRITE
// through where ACCESS, like knfsd's, says no), each bit granted or not
// is a call that succeeds or fails.
func TestAccessAgrees(t *testing.T) {
	tr := newPermTree(t, &Server{}, false)
	for _, w := range [][3]uint32{user, other, {}} {
		c := tr.who(w)
		for _, path := range []string{"home/f", "home/open", "sys/x", "private/p"} {
			fh := tr.lookup(path)
			a := tr.attr(path)
			if a.uid == w[0] {
				continue
			}
			got := c.access(fh)
			rst, _ := c.read(fh, 0, 4)
			wst := c.write(fh, 0, []byte("data"), unstable)
			if (got&accessRead != 0) != (rst == nfs.NFSStatusOk) || (got&accessModify != 0) != (wst == nfs.NFSStatusOk) {
				t.Errorf("uid %d on %s: ACCESS %#x, READ %v, WRITE %v", w[0], path, got, rst, wst)
			}
		}
		for i, path := range []string{"home", "sys", "private", "noread", "pub"} {
			dh := tr.lookup(path)
			got := c.access(dh)
			lst := c.dirop(nfs.NFSProcedureLookup, dh, "nothing-here")
			rst, _ := c.readdirplus(dh, 4096, 8192)
			name := "probe" + string(rune('a'+i))
			cst, _ := c.create(dh, name, createUnchecked, sattrMode(0o644))
			tr.c.create(dh, name, createUnchecked, sattrMode(0o644))
			dst := c.dirop(nfs.NFSProcedureRemove, dh, name)
			tr.c.dirop(nfs.NFSProcedureRemove, dh, name)
			if (got&accessLookup != 0) != (lst == nfs.NFSStatusNoEnt) || (got&accessRead != 0) != (rst == nfs.NFSStatusOk) ||
				(got&accessModify != 0) != (cst == nfs.NFSStatusOk) || (got&accessDelete != 0) != (dst == nfs.NFSStatusOk) {
				t.Errorf("uid %d on %s/: ACCESS %#x, LOOKUP %v, READDIRPLUS %v, CREATE %v, REMOVE %v", w[0], path, got, lst, rst, cst, dst)
			}
		}
	}
}
