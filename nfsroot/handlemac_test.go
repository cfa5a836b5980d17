package nfsroot

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"
)

// TestHandlesCannotBeComputed: a client that stats a file in the export
// (device, inode, birth time: all a host user or a board can learn) and
// builds its handle, in the old MAC-less form or the current one with a
// guessed MAC, gets BADHANDLE; the handle the server gave out works.
func TestHandlesCannotBeComputed(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "etc", "shadow"), []byte("root:x\n"))
	h := start(t, dir, nil)
	c := dial(t, h.addr)
	real := c.mustLookup(c.mount("/"), "etc", "shadow")
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, filepath.Join(dir, "etc", "shadow"), unix.AT_SYMLINK_NOFOLLOW, statxMask, &stx); err != nil {
		t.Fatal(err)
	}
	body := func(version byte) []byte {
		b := []byte{'b', 'R', 0, version}
		b = binary.BigEndian.AppendUint64(b, keyOf(&stx).dev)
		b = binary.BigEndian.AppendUint64(b, keyOf(&stx).ino)
		return binary.BigEndian.AppendUint64(b, btimeOf(&stx))
	}
	flipped := append([]byte(nil), real...)
	flipped[len(flipped)-1] ^= 1
	for _, tc := range []struct {
		name string
		fh   []byte
	}{
		{"computed without a MAC (the format before)", body(1)},
		{"computed with a zero MAC", append(body(2), make([]byte, macLen)...)},
		{"the real handle with one MAC bit flipped", flipped},
		{"the real handle truncated", real[:28]},
	} {
		if st, _ := c.getattr(tc.fh); st != nfs.NFSStatusBadHandle {
			t.Errorf("GETATTR of a handle %s: %v, want BADHANDLE", tc.name, st)
		}
		if st := c.write(tc.fh, 0, []byte("PWNED"), fileSync); st != nfs.NFSStatusBadHandle {
			t.Errorf("WRITE through a handle %s: %v, want BADHANDLE", tc.name, st)
		}
	}
	if st, data := c.read(real, 0, 100); st != nfs.NFSStatusOk || string(data) != "root:x\n" {
		t.Errorf("READ through the server's handle: %v %q", st, data)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "etc", "shadow")); string(got) != "root:x\n" {
		t.Errorf("the file became %q", got)
	}
}

// TestHandleKey: the key lives beside the metadata store with mode
// 0600 and stays across restarts (so do handles); a key others can read
// or of the wrong size stops OpenExport with an error that says so.
func TestHandleKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rootfs")
	writeFile(t, filepath.Join(dir, "etc", "hostname"), []byte("board\n"))
	x := openExport(t, dir, ExportOptions{})
	root := x.RootHandle()
	x.Close()
	path := filepath.Join(filepath.Dir(dir), ".rootfs.bootrig-meta.key")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != handleKeySize {
		t.Fatalf("handle key %s: %v, %v; want a %d-byte file of mode 0600", path, fi, err, handleKeySize)
	}
	x = openExport(t, dir, ExportOptions{})
	if got := x.RootHandle(); string(got) != string(root) {
		t.Errorf("root handle after reopening %x, want %x", got, root)
	}
	x.Close()
	other := openExport(t, t.TempDir(), ExportOptions{StatePath: filepath.Join(t.TempDir(), "other.db")})
	if _, _, err := other.parseHandle(root); !errors.Is(err, ErrBadHandle) {
		t.Errorf("another export's handle: %v, want ErrBadHandle", err)
	}
	other.Close()
	os.Chmod(path, 0o644)
	if _, err := OpenExport(dir, ExportOptions{}); !errors.Is(err, ErrHandleKey) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("OpenExport with a key of mode 0644: %v", err)
	}
	os.Chmod(path, 0o600)
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := OpenExport(dir, ExportOptions{}); !errors.Is(err, ErrHandleKey) || !strings.Contains(err.Error(), "5 bytes") {
		t.Errorf("OpenExport with a 5-byte key: %v", err)
	}
}
