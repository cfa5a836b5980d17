package nfsroot

import (
	"os"
	"path/filepath"
	"testing"

	nfs "github.com/willscott/go-nfs"
)

// TestMovedOutIsStale: a file the host moves out of the export is gone
// for READ and WRITE through its old handle at once, as for GETATTR,
// although the server had it open (the open-file cache).
func TestMovedOutIsStale(t *testing.T) {
	base := t.TempDir()
	export, outside := filepath.Join(base, "export"), filepath.Join(base, "outside")
	writeFile(t, filepath.Join(export, "d", "f"), []byte("inside"))
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	h := start(t, export, nil)
	c := dial(t, h.addr)
	fh := c.mustLookup(c.mount("/"), "d", "f")
	if st := c.write(fh, 0, []byte("INSIDE"), unstable); st != nfs.NFSStatusOk {
		t.Fatal(st)
	}
	if st, got := c.read(fh, 0, 100); st != nfs.NFSStatusOk || string(got) != "INSIDE" {
		t.Fatal(st, got)
	}
	if err := os.Rename(filepath.Join(export, "d", "f"), filepath.Join(outside, "f")); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.getattr(fh); st != nfs.NFSStatusStale {
		t.Errorf("GETATTR: %v, want STALE", st)
	}
	if st, got := c.read(fh, 0, 100); st != nfs.NFSStatusStale {
		t.Errorf("READ: %v %q, want STALE", st, got)
	}
	if st := c.write(fh, 0, []byte("PWNED!"), fileSync); st != nfs.NFSStatusStale {
		t.Errorf("WRITE: %v, want STALE", st)
	}
	if got, _ := os.ReadFile(filepath.Join(outside, "f")); string(got) != "INSIDE" {
		t.Errorf("the file outside holds %q", got)
	}
}
