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
	// body is the current form's body, which anyone can compute.
	body := binary.BigEndian.AppendUint32(nil, dev32(keyOf(&stx).dev))
	body = binary.BigEndian.AppendUint64(body, keyOf(&stx).ino)
	body = binary.BigEndian.AppendUint32(body, generation(btimeOf(&stx)))
	// before is the 44-byte form of earlier versions: "bR" v2, device,
	// inode, birth time and a 16-byte MAC (here a guessed one).
	before := []byte{'b', 'R', 0, 2}
	before = binary.BigEndian.AppendUint64(before, keyOf(&stx).dev)
	before = binary.BigEndian.AppendUint64(before, keyOf(&stx).ino)
	before = binary.BigEndian.AppendUint64(before, btimeOf(&stx))
	before = append(before, make([]byte, 16)...)
	flipped := append([]byte(nil), real...)
	flipped[len(flipped)-1] ^= 1
	for _, tc := range []struct {
		name string
		fh   []byte
	}{
		{"computed without a tag", body},
		{"computed with a zero tag", append(body, make([]byte, tagLen)...)},
		{"computed in the 44-byte form of before", before},
		{"the real handle with one tag bit flipped", flipped},
		{"the real handle truncated", real[:bodyLen]},
		{"the real handle with a byte more", append(real[:len(real):len(real)], 0)},
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

// TestHandleGeneration: a handle names one file, not an inode number: a
// handle with the file's device and inode but another generation (what
// the handle of a deleted file looks like once its inode is reused) is
// STALE, and reads nothing of the file that has the inode now.
func TestHandleGeneration(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "now"), []byte("the new file\n"))
	h := start(t, dir, nil)
	c := dial(t, h.addr)
	real := c.mustLookup(c.mount("/"), "now")
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, filepath.Join(dir, "now"), unix.AT_SYMLINK_NOFOLLOW, statxMask, &stx); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.getattr(real); st != nfs.NFSStatusOk {
		t.Fatalf("GETATTR of the server's handle: %v", st)
	}
	old := h.x.makeHandle(keyOf(&stx), btimeOf(&stx)^1)
	if st, _ := c.getattr(old); st != nfs.NFSStatusStale {
		t.Errorf("GETATTR of the inode's handle with another generation: %v, want STALE", st)
	}
	if st, data := c.read(old, 0, 100); st != nfs.NFSStatusStale || len(data) != 0 {
		t.Errorf("READ through it: %v %q, want STALE and nothing", st, data)
	}
}
