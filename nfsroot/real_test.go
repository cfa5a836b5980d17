package nfsroot

import (
	"path/filepath"
	"testing"

	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"

	"github.com/bootrig/bootrig/devtable"
)

// TestRealOwnership serves the host's own ownership and device files
// (the tests run as root, as CI does): the seeded table and the board's
// MKNOD and chown change the host.
func TestRealOwnership(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Fatal("this test needs root (CI runs the tests as root)")
	}
	dir := filepath.Join(t.TempDir(), "rootfs")
	writeFile(t, filepath.Join(dir, "bin", "sh"), []byte("#!"))
	x := openExport(t, dir, ExportOptions{RealOwnership: true})
	if err := x.Seed(devtable.Default("ttyAMA0")); err != nil {
		t.Fatal(err)
	}
	h := start(t, dir, &Server{Export: x})
	c := dial(t, h.addr)
	root := c.mount("/")
	dev := c.mustLookup(root, "dev")
	if st, _ := c.mknod(dev, "sda", nfs.FileTypeBlock, 0o660, 8, 0); st != nfs.NFSStatusOk {
		t.Fatal(st)
	}
	sh := c.mustLookup(root, "bin", "sh")
	c.setattr(sh, sattrOwner(1000, 1001)) // a chown clears setuid: before the mode
	c.setattr(sh, sattrMode(0o4755))
	for _, tc := range []struct {
		path         string
		mode         uint32
		uid, gid     uint32
		major, minor uint32
	}{
		{"dev/console", unix.S_IFCHR | 0o600, 0, 0, 5, 1},
		{"dev/sda", unix.S_IFBLK | 0o660, 0, 0, 8, 0},
		{"bin/sh", unix.S_IFREG | 0o4755, 1000, 1001, 0, 0},
	} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(dir, tc.path), &st); err != nil {
			t.Fatal(err)
		}
		if st.Mode != tc.mode || st.Uid != tc.uid || st.Gid != tc.gid || unix.Major(st.Rdev) != tc.major || unix.Minor(st.Rdev) != tc.minor {
			t.Errorf("host %s: mode %o uid %d gid %d rdev %d,%d; want %o %d %d %d,%d", tc.path, st.Mode, st.Uid, st.Gid,
				unix.Major(st.Rdev), unix.Minor(st.Rdev), tc.mode, tc.uid, tc.gid, tc.major, tc.minor)
		}
	}
	if _, a := c.getattr(c.mustLookup(dev, "console")); a.typ != uint32(nfs.FileTypeCharacter) || a.major != 5 || a.minor != 1 {
		t.Errorf("console attributes %+v", a)
	}
	if _, a := c.getattr(sh); a.uid != 1000 || a.gid != 1001 || a.mode != 0o4755 {
		t.Errorf("sh attributes %+v", a)
	}
}
