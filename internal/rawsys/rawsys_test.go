package rawsys

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func socketpair(t *testing.T) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

func TestReadWritev(t *testing.T) {
	a, b := socketpair(t)
	var bufs [][]byte
	var want []byte
	for i := range 10 { // more than one call takes: at most 8 go
		p := bytes.Repeat([]byte{byte('a' + i)}, i+1)
		bufs = append(bufs, p, nil)
		if i < 8 {
			want = append(want, p...)
		}
	}
	n, err := Writev(a, bufs)
	if err != nil || n != len(want) {
		t.Fatalf("Writev: %d, %v; want %d bytes", n, err, len(want))
	}
	got := make([]byte, 100)
	if n, err = Read(b, got); err != nil || !bytes.Equal(got[:n], want) {
		t.Fatalf("Read: %q, %v; want %q", got[:n], err, want)
	}
	if _, err = Read(b, got); err != unix.EAGAIN {
		t.Fatalf("Read of an empty socket: %v, want EAGAIN", err)
	}
	unix.Shutdown(a, unix.SHUT_WR)
	if n, err = Read(b, got); n != 0 || err != nil {
		t.Fatalf("Read after the peer's shutdown: %d, %v; want 0, nil (end of stream)", n, err)
	}
	if n, err = Writev(a, [][]byte{nil, {}}); n != 0 || err != nil {
		t.Fatalf("Writev of nothing: %d, %v", n, err)
	}
}

// TestOpenat2Statx checks that the raw calls resolve as unix.Openat2
// does beneath a root, and that Statx of the O_PATH descriptor is the
// object's own (a symlink's, not its target's).
func TestOpenat2Statx(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	rfd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rfd)
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS,
	}
	for _, tc := range []struct {
		path string
		want error
	}{
		{"a/b", nil},
		{"link", nil}, // the link itself (O_PATH|O_NOFOLLOW)
		{"link/b", unix.ELOOP},
		{"../x", unix.EXDEV},
		{"a/none", unix.ENOENT},
		{"a/b\x00c", unix.EINVAL},
	} {
		fd, err := Openat2(rfd, tc.path, &how)
		if !errors.Is(err, tc.want) {
			t.Errorf("Openat2 %q: %v, want %v", tc.path, err, tc.want)
		}
		if err != nil {
			continue
		}
		var st unix.Statx_t
		err = Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &st)
		Close(fd)
		var lst unix.Stat_t
		lerr := unix.Lstat(filepath.Join(root, tc.path), &lst)
		if err != nil || lerr != nil || st.Ino != lst.Ino || uint32(st.Mode) != lst.Mode {
			t.Errorf("Statx of %q: ino %d mode %o, %v; want Lstat's (%v)", tc.path, st.Ino, st.Mode, err, lerr)
		}
	}
	if err := Close(-1); err != unix.EBADF {
		t.Errorf("Close(-1): %v, want EBADF", err)
	}
}
