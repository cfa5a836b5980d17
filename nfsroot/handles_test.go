package nfsroot

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	nfs "github.com/willscott/go-nfs"

	"github.com/bootrig/bootrig/devtable"
)

// TestHandlesStable looks up more files than any cache of the server
// holds (fileCacheSize, listCacheSize, go-nfs's default LRU of 1024),
// then checks every handle after other lookups, after renaming their
// directory, and after a restart of the server.
func TestHandlesStable(t *testing.T) {
	const n = 5000
	dir := t.TempDir()
	for i := range n {
		writeFile(t, filepath.Join(dir, "a", "b", fmt.Sprintf("f%05d", i)), []byte(fmt.Sprint(i)))
	}
	h := start(t, dir, nil)
	c := dial(t, h.addr)
	root := c.mount("/")
	b := c.mustLookup(root, "a", "b")
	handles := make([][]byte, n)
	for i := range n {
		handles[i] = c.mustLookup(b, fmt.Sprintf("f%05d", i))
	}
	check := func(when string) {
		t.Helper()
		bad := 0
		for i, fh := range handles {
			st, data := c.read(fh, 0, 100)
			if st != nfs.NFSStatusOk || string(data) != fmt.Sprint(i) {
				bad++
				if bad < 5 {
					t.Errorf("%s: READ f%05d: %v %q", when, i, st, data)
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d handles failed", when, bad, n)
		}
	}
	check("after looking up all")
	if st := c.rename(root, "a", root, "renamed"); st != nfs.NFSStatusOk {
		t.Fatalf("RENAME a renamed: %v", st)
	}
	check("after renaming their grandparent")

	h.stop()
	h2 := start(t, dir, nil)
	c = dial(t, h2.addr)
	check("after a restart")
	// The old directory handle too.
	if st, a := c.getattr(b); st != nfs.NFSStatusOk || a.typ != uint32(nfs.FileTypeDirectory) {
		t.Errorf("directory handle after restart: %v", st)
	}
}

// TestOverlay checks the metadata overlay: seeded device table, board
// chown/chmod/mknod, all surviving a restart while host files stay plain
// files of the user running the server.
func TestOverlay(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rootfs")
	writeFile(t, filepath.Join(dir, "bin", "busybox"), []byte("#!"))
	x := openExport(t, dir, ExportOptions{})
	table := append(devtable.Default("ttyAMA0"),
		devtable.Entry{Kind: devtable.Pipe, Path: "/dev/initctl", Mode: 0o600},
		devtable.Entry{Kind: devtable.Slink, Path: "/dev/stdin", Target: "/proc/self/fd/0", Mode: 0o777},
		devtable.Entry{Kind: devtable.Dir, Path: "/home/user", Mode: 0o750, UID: 1000, GID: 1000},
	)
	if err := x.Seed(table); err != nil {
		t.Fatal(err)
	}
	h := start(t, dir, &Server{Export: x})
	c := dial(t, h.addr)
	root := c.mount("/")
	bb := c.mustLookup(root, "bin", "busybox")
	if st := c.setattr(bb, sattrMode(0o4755)); st != nfs.NFSStatusOk {
		t.Fatal(st)
	}
	dev := c.mustLookup(root, "dev")
	if st, _ := c.mknod(dev, "ttyS9", nfs.FileTypeCharacter, 0o620, 4, 73); st != nfs.NFSStatusOk {
		t.Fatal(st)
	}
	want := map[string]attr3{
		"dev/console": {typ: uint32(nfs.FileTypeCharacter), mode: 0o600, major: 5, minor: 1},
		"dev/null":    {typ: uint32(nfs.FileTypeCharacter), mode: 0o666, major: 1, minor: 3},
		"dev/ttyAMA0": {typ: uint32(nfs.FileTypeCharacter), mode: 0o600, major: 204, minor: 64},
		"dev/initctl": {typ: uint32(nfs.FileTypeFIFO), mode: 0o600},
		"dev/stdin":   {typ: uint32(nfs.FileTypeLink), mode: 0o777},
		"dev/ttyS9":   {typ: uint32(nfs.FileTypeCharacter), mode: 0o620, major: 4, minor: 73},
		"tmp":         {typ: uint32(nfs.FileTypeDirectory), mode: 0o1777},
		"home/user":   {typ: uint32(nfs.FileTypeDirectory), mode: 0o750, uid: 1000, gid: 1000},
		"bin/busybox": {typ: uint32(nfs.FileTypeRegular), mode: 0o4755},
		"bin":         {typ: uint32(nfs.FileTypeDirectory), mode: 0o755},
	}
	check := func(c *client, when string) {
		t.Helper()
		root := c.mount("/")
		for p, w := range want {
			st, a := c.getattr(c.mustLookup(root, strings.Split(p, "/")...))
			if st != nfs.NFSStatusOk || a.typ != w.typ || a.mode != w.mode || a.uid != w.uid || a.gid != w.gid || a.major != w.major || a.minor != w.minor {
				t.Errorf("%s: %s: %v %+v, want %+v", when, p, st, a, w)
			}
		}
	}
	check(c, "served")
	h.stop()
	c2 := dial(t, start(t, dir, nil).addr)
	check(c2, "after restart")
	for _, p := range []string{"dev/console", "dev/initctl", "dev/ttyS9"} {
		fi, err := os.Lstat(filepath.Join(dir, p))
		if err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 {
			t.Errorf("host %s: %v %v, want an empty plain file", p, fi, err)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, "bin/busybox")); fi.Mode()&os.ModeSetuid != 0 {
		t.Errorf("host busybox became setuid: %v", fi.Mode())
	}
	if _, err := os.Stat(DefaultStatePath(dir)); err != nil {
		t.Errorf("metadata store not beside the export: %v", err)
	}
}

// TestHandleSurvivesRemovingALink keeps a file's handle valid when the
// name its handle was recorded under is removed while another hard link
// remains, made by the board (LINK) or found on the host.
func TestHandleSurvivesRemovingALink(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bin", "busybox"), []byte("bb"))
	if err := os.Link(filepath.Join(dir, "bin", "busybox"), filepath.Join(dir, "bin", "sh")); err != nil {
		t.Fatal(err)
	}
	h := start(t, dir, nil)
	c := dial(t, h.addr)
	root := c.mount("/")
	bin := c.mustLookup(root, "bin")
	sh := c.mustLookup(bin, "sh")
	bb := c.mustLookup(bin, "busybox") // the record now names bin/busybox
	if string(sh) != string(bb) {
		t.Fatalf("two names of one file have different handles")
	}
	_, sbin := c.mkdir(root, "sbin")
	if st := c.link(bb, sbin, "init"); st != nfs.NFSStatusOk {
		t.Fatal(st)
	}
	for _, name := range []string{"busybox", "sh"} {
		if st := c.dirop(nfs.NFSProcedureRemove, bin, name); st != nfs.NFSStatusOk {
			t.Fatal(st)
		}
		if st, data := c.read(bb, 0, 10); st != nfs.NFSStatusOk || string(data) != "bb" {
			t.Errorf("after removing bin/%s: READ %v %q, want the file through its other name", name, st, data)
		}
	}
	h.stop()
	c = dial(t, start(t, dir, nil).addr)
	if st, data := c.read(bb, 0, 10); st != nfs.NFSStatusOk || string(data) != "bb" {
		t.Errorf("after restart: READ %v %q", st, data)
	}
}

// TestSeedFile: a file entry is copied in when missing, and a later
// start keeps what was written to it since, while its mode and owner
// come from the table again.
func TestSeedFile(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "inittab")
	writeFile(t, src, []byte("::sysinit:/etc/init.d/rcS\n"))
	dir := filepath.Join(base, "rootfs")
	os.MkdirAll(dir, 0o755)
	table := []devtable.Entry{{Kind: devtable.File, Path: "/etc/inittab", Source: src, Mode: 0o600, UID: 0, GID: 0}}
	x := openExport(t, dir, ExportOptions{})
	if err := x.Seed(table); err != nil {
		t.Fatal(err)
	}
	x.Close()
	if got, _ := os.ReadFile(filepath.Join(dir, "etc", "inittab")); string(got) != "::sysinit:/etc/init.d/rcS\n" {
		t.Errorf("seeded file holds %q", got)
	}
	writeFile(t, filepath.Join(dir, "etc", "inittab"), []byte("edited on the board\n"))
	x = openExport(t, dir, ExportOptions{})
	defer x.Close()
	if err := x.Seed(table); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "etc", "inittab")); string(got) != "edited on the board\n" {
		t.Errorf("a second Seed overwrote the file: %q", got)
	}
}
