package nfsroot

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"

	"github.com/bootrig/bootrig/internal/oncrpc"
)

// TestProcedures drives every procedure a root filesystem uses and
// checks the host tree and the attributes the board sees.
func TestProcedures(t *testing.T) {
	dir := t.TempDir()
	h := start(t, dir, nil)
	c := dial(t, h.addr)
	root := c.mount("/")
	ok := nfs.NFSStatusOk
	// The root directory is uid 1000's, who creates the files; root
	// (uid 0) does what only root may (chown, device nodes).
	if st := c.setattr(root, sattrOwner(1000, 100)); st != ok {
		t.Fatalf("SETATTR owner of the root: %v", st)
	}
	c.uid, c.gid = 1000, 100

	// CREATE in its three modes.
	st, f := c.create(root, "f", createUnchecked, sattrMode(0o640))
	if st != ok {
		t.Fatalf("CREATE unchecked: %v", st)
	}
	if st, _ := c.create(root, "f", createGuarded, sattrMode(0o640)); st != nfs.NFSStatusExist {
		t.Errorf("CREATE guarded of an existing name: %v, want EXIST", st)
	}
	if st, f2 := c.create(root, "f", createUnchecked, sattrNone); st != ok || !bytes.Equal(f, f2) {
		t.Errorf("CREATE unchecked of an existing name: %v, handle changed %v", st, !bytes.Equal(f, f2))
	}
	st, ex := c.create(root, "ex", createExclusive, nil)
	if st != ok {
		t.Fatalf("CREATE exclusive: %v", st)
	}
	if st, ex2 := c.create(root, "ex", createExclusive, nil); st != ok || !bytes.Equal(ex, ex2) {
		t.Errorf("CREATE exclusive retry with the same verifier: %v", st)
	}
	if _, a := c.getattr(f); a.mode != 0o640 || a.uid != 1000 || a.gid != 100 || a.typ != uint32(nfs.FileTypeRegular) {
		t.Errorf("new file attributes %+v, want mode 0640 uid 1000 gid 100", a)
	}

	// WRITE in each stability, READ back, COMMIT.
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for i, stable := range []uint32{unstable, dataSync, fileSync} {
		if st := c.write(f, uint64(i)*uint64(len(data)), data, stable); st != ok {
			t.Fatalf("WRITE stable=%d: %v", stable, st)
		}
	}
	d := c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureCommit), args(func(e *encoder) { e.Opaque(f); e.Uint64(0); e.Uint32(0) }))
	if st := nfs.NFSStatus(d.Uint32()); st != ok {
		t.Errorf("COMMIT: %v", st)
	}
	if st, got := c.read(f, uint64(len(data)), uint32(len(data))); st != ok || !bytes.Equal(got, data) {
		t.Errorf("READ: %v, %d bytes, equal %v", st, len(got), bytes.Equal(got, data))
	}
	if fi, err := os.Stat(filepath.Join(dir, "f")); err != nil || fi.Size() != 3*int64(len(data)) {
		t.Errorf("host file: %v, %v", fi, err)
	}

	// SETATTR as root: owner (a chown clears setuid, so before the
	// mode), then mode with setuid, size, times.
	c.uid, c.gid = 0, 0
	if st := c.setattr(f, sattrOwner(0, 0)); st != ok {
		t.Fatalf("SETATTR owner: %v", st)
	}
	sa := func(e *encoder) {
		e.Bool(true)
		e.Uint32(0o4755)
		e.Bool(false)
		e.Bool(false)
		e.Bool(true)
		e.Uint64(10)
		e.Uint32(timeClient)
		e.Uint32(1000000000)
		e.Uint32(5)
		e.Uint32(timeClient)
		e.Uint32(1200000000)
		e.Uint32(7)
	}
	if st := c.setattr(f, sa); st != ok {
		t.Fatalf("SETATTR: %v", st)
	}
	if _, a := c.getattr(f); a.mode != 0o4755 || a.uid != 0 || a.gid != 0 || a.size != 10 {
		t.Errorf("after SETATTR: %+v, want mode 04755 uid 0 gid 0 size 10", a)
	}
	var hst unix.Stat_t
	unix.Stat(filepath.Join(dir, "f"), &hst)
	if hst.Mode&0o7000 != 0 || hst.Mtim.Sec != 1200000000 || hst.Mtim.Nsec != 7 || hst.Atim.Sec != 1000000000 {
		t.Errorf("host file mode %o mtime %v atime %v: want no setuid on the host and the client's times", hst.Mode, hst.Mtim, hst.Atim)
	}

	// MKDIR, SYMLINK (verbatim), READLINK, MKNOD, LINK.
	st, sub := c.mkdir(root, "sub")
	if st != ok {
		t.Fatalf("MKDIR: %v", st)
	}
	for _, target := range []string{"/usr/lib", "../../../etc/shadow", "busybox"} {
		st, l := c.symlink(sub, "l"+fmt.Sprint(len(target)), target)
		if st != ok {
			t.Fatalf("SYMLINK -> %s: %v", target, st)
		}
		if st, got := c.readlink(l); st != ok || got != target {
			t.Errorf("READLINK: %v %q, want %q", st, got, target)
		}
		if got, _ := os.Readlink(filepath.Join(dir, "sub", "l"+fmt.Sprint(len(target)))); got != target {
			t.Errorf("host symlink target %q, want %q verbatim", got, target)
		}
	}
	for _, n := range []struct {
		name         string
		typ          nfs.FileType
		major, minor uint32
	}{{"console", nfs.FileTypeCharacter, 5, 1}, {"sda", nfs.FileTypeBlock, 8, 0}, {"fifo", nfs.FileTypeFIFO, 0, 0}, {"sock", nfs.FileTypeSocket, 0, 0}} {
		st, nh := c.mknod(sub, n.name, n.typ, 0o600, n.major, n.minor)
		if st != ok {
			t.Fatalf("MKNOD %s: %v", n.name, st)
		}
		if _, a := c.getattr(nh); a.typ != uint32(n.typ) || a.major != n.major || a.minor != n.minor || a.mode != 0o600 {
			t.Errorf("MKNOD %s: attributes %+v", n.name, a)
		}
		if fi, err := os.Lstat(filepath.Join(dir, "sub", n.name)); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("host placeholder for %s: %v %v, want a plain file", n.name, fi, err)
		}
	}
	if st := c.link(f, sub, "hard"); st != ok {
		t.Fatalf("LINK: %v", st)
	}
	if hostIno(t, filepath.Join(dir, "sub", "hard")) != hostIno(t, filepath.Join(dir, "f")) {
		t.Errorf("LINK made no hard link")
	}

	// RENAME keeps the handle; REMOVE of one link keeps the other.
	if st := c.rename(root, "f", sub, "moved"); st != ok {
		t.Fatalf("RENAME: %v", st)
	}
	if st, a := c.getattr(f); st != ok || a.mode != 0o4755 {
		t.Errorf("GETATTR of a renamed file's old handle: %v %+v", st, a)
	}
	if st := c.dirop(nfs.NFSProcedureRemove, sub, "hard"); st != ok {
		t.Errorf("REMOVE: %v", st)
	}
	if st, _ := c.getattr(f); st != ok {
		t.Errorf("GETATTR after removing the other link: %v", st)
	}
	if st := c.dirop(nfs.NFSProcedureRmDir, root, "sub"); st != nfs.NFSStatusNotEmpty {
		t.Errorf("RMDIR of a full directory: %v, want NOTEMPTY", st)
	}
	if st := c.dirop(nfs.NFSProcedureRemove, root, "sub"); st != nfs.NFSStatusIsDir {
		t.Errorf("REMOVE of a directory: %v, want ISDIR", st)
	}
	st, listing := c.readdirplus(sub, 128, 1024)
	var names []string
	for _, e := range listing {
		names = append(names, e.name)
	}
	slices.Sort(names)
	want := []string{".", "..", "console", "fifo", "l19", "l7", "l8", "moved", "sda", "sock"}
	if st != ok || !slices.Equal(names, want) {
		t.Errorf("READDIRPLUS with small counts: %v %q, want %q", st, names, want)
	}
	for _, n := range []string{"console", "fifo", "l19", "l7", "l8", "moved", "sda", "sock"} {
		if st := c.dirop(nfs.NFSProcedureRemove, sub, n); st != ok {
			t.Errorf("REMOVE %s: %v", n, st)
		}
	}
	if st, _ := c.getattr(f); st != nfs.NFSStatusStale {
		t.Errorf("GETATTR of a removed file: %v, want STALE", st)
	}
	if st := c.dirop(nfs.NFSProcedureRmDir, root, "sub"); st != ok {
		t.Errorf("RMDIR: %v", st)
	}

	// FSSTAT, FSINFO, PATHCONF, ACCESS.
	for _, p := range []nfs.NFSProcedure{nfs.NFSProcedureFSStat, nfs.NFSProcedureFSInfo, nfs.NFSProcedurePathConf} {
		d := c.call(oncrpc.ProgNFS, uint32(p), args(func(e *encoder) { e.Opaque(root) }))
		if st := nfs.NFSStatus(d.Uint32()); st != ok {
			t.Errorf("%v: %v", p, st)
		}
	}
	c.uid, c.gid = 1000, 100
	d = c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureAccess), args(func(e *encoder) { e.Opaque(ex); e.Uint32(0x3f) }))
	if st := nfs.NFSStatus(d.Uint32()); st != ok {
		t.Errorf("ACCESS: %v", st)
	}
	d.postOpAttr()
	if got := d.Uint32(); got != accessRead|accessModify|accessExtend {
		t.Errorf("ACCESS of the owner on a 0600 file: %#x", got)
	}
}
