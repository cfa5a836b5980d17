package nfsroot

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	nfs "github.com/willscott/go-nfs"

	"github.com/bootrig/bootrig/devtable"
)

// TestSeedAfterBoardChanges: the board replaced device table entries
// with other kinds of file (/dev/console by a symlink, /dev/pts by a
// file); the next start seeds everything else, logs one line for each
// and serves the board's change.
func TestSeedAfterBoardChanges(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rootfs")
	writeFile(t, filepath.Join(dir, "bin", "sh"), []byte("#!"))
	table := devtable.Default("ttyAMA0")
	x := openExport(t, dir, ExportOptions{})
	if err := x.Seed(table); err != nil {
		t.Fatal(err)
	}
	h := start(t, dir, &Server{Export: x})
	c := dial(t, h.addr)
	dev := c.mustLookup(c.mount("/"), "dev")
	for _, step := range []nfs.NFSStatus{
		c.dirop(nfs.NFSProcedureRemove, dev, "console"),
		func() nfs.NFSStatus { st, _ := c.symlink(dev, "console", "ttyAMA0"); return st }(),
		c.dirop(nfs.NFSProcedureRmDir, dev, "pts"),
		func() nfs.NFSStatus { st, _ := c.create(dev, "pts", createUnchecked, sattrNone); return st }(),
		c.dirop(nfs.NFSProcedureRemove, dev, "null"),
	} {
		if step != nfs.NFSStatusOk {
			t.Fatalf("board's change: %v", step)
		}
	}
	h.stop()

	logs := &lockedBuffer{}
	x2 := openExport(t, dir, ExportOptions{Log: slog.New(slog.NewTextHandler(logs, nil))})
	if err := x2.Seed(table); err != nil {
		t.Fatalf("Seed after the board's changes: %v", err)
	}
	for _, p := range []string{"/dev/console", "/dev/pts"} {
		if n := strings.Count(logs.String(), "entry="+p+" "); n != 1 {
			t.Errorf("%s logged %d times, want once:\n%s", p, n, logs)
		}
	}
	c = dial(t, start(t, dir, &Server{Export: x2}).addr)
	dev = c.mustLookup(c.mount("/"), "dev")
	if st, target := c.readlink(c.mustLookup(dev, "console")); st != nfs.NFSStatusOk || target != "ttyAMA0" {
		t.Errorf("/dev/console: %v %q, want the board's symlink", st, target)
	}
	if _, a := c.getattr(c.mustLookup(dev, "pts")); a.typ != uint32(nfs.FileTypeRegular) {
		t.Errorf("/dev/pts: %+v, want the board's file", a)
	}
	if _, a := c.getattr(c.mustLookup(dev, "null")); a.typ != uint32(nfs.FileTypeCharacter) || a.major != 1 || a.minor != 3 {
		t.Errorf("/dev/null (removed by the board): %+v, want seeded again", a)
	}
}
