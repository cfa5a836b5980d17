package up_test

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootrig/bootrig/lab/up"
)

// scratch is a fresh directory in the exported rootfs, removed at the end.
func scratch(t *testing.T, c up.Config, name string) (host, board string) {
	t.Helper()
	rel := fmt.Sprintf("root/%s-%d", name, time.Now().UnixNano())
	host = filepath.Join(c.Netboot.Export, rel)
	if err := os.MkdirAll(host, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(host) })
	return host, "/" + rel
}

// TestLiveEdit: files created, changed and deleted on the host are seen
// by the running board at its next look, well within the 2 s the issue
// asks for, also a name the board looked up before it existed
// (lookupcache=positive in the profile's nfsroot options).
func TestLiveEdit(t *testing.T) {
	if !inLab(t) {
		return
	}
	c := config(t)
	b := start(t, c)
	host, board := scratch(t, c, "live")
	f := board + "/hello.txt"
	if out, code := run(t, b, "cat "+f); code == 0 {
		t.Fatalf("cat of a missing file succeeded: %q", out)
	}
	steps := []struct {
		name, want string
		edit       func() error
	}{
		{"create", "one\n", func() error { return os.WriteFile(filepath.Join(host, "hello.txt"), []byte("one\n"), 0o644) }},
		{"change", "two, longer\n", func() error {
			return os.WriteFile(filepath.Join(host, "hello.txt"), []byte("two, longer\n"), 0o644)
		}},
		{"delete", "", func() error { return os.Remove(filepath.Join(host, "hello.txt")) }},
	}
	for _, st := range steps {
		if err := st.edit(); err != nil {
			t.Fatal(err)
		}
		// The board looks every 50 ms, up to 2 s, and prints what it saw
		// last and how many looks it took.
		check := `[ "$(cat ` + f + ` 2>/dev/null)" = "` + strings.TrimSuffix(st.want, "\n") + `" ]`
		if st.want == "" {
			// Gone for a stat (test -e, ls) too, not only for an open:
			// stat trusts the attribute cache (actimeo in the profile).
			check = "! test -e " + f + " && ! ls " + f + " >/dev/null 2>&1"
		}
		t0 := time.Now()
		out, code := run(t, b, `i=1; until `+check+`; do [ $i -ge 40 ] && break; usleep 50000; i=$((i+1)); done; `+
			`echo "looks=$i"; cat `+f+` 2>/dev/null`)
		took := time.Since(t0)
		looks, content, _ := strings.Cut(out, "\n")
		t.Logf("%s: seen by the board within %v (%s)", st.name, took, looks)
		if content != st.want || code != 0 && st.want != "" {
			t.Errorf("%s: after 2 s the board reads %q (exit %d), want %q", st.name, content, code, st.want)
		}
	}
	// Reading opens the file, and an NFS open revalidates (close-to-open).
	// A bare stat of a deleted file (test -e) trusts the attribute cache
	// instead: measured 3 s with the default acregmin, 0.9 s with the
	// profile's actimeo=1.
}

// TestServerRestart: the board runs a loop that writes, reads back and
// checks files while bootrig's servers are stopped and started again
// three times; the loop sees no error (no ESTALE) and every file it
// wrote is intact on the host.
func TestServerRestart(t *testing.T) {
	if !inLab(t) {
		return
	}
	c := config(t)
	b := start(t, c)
	host, board := scratch(t, c, "loop")
	const files = 60
	script := fmt.Sprintf(`d=%s; i=0; bad=0; while [ $i -lt %d ]; do `+
		`dd if=/dev/urandom of=$d/f$i bs=1k count=16 2>/dev/null || bad=1; `+
		`md5sum $d/f$i > $d/f$i.md5 || bad=1; md5sum -c -s $d/f$i.md5 || { echo BAD $i; bad=1; }; `+
		`i=$((i+1)); done; echo loop done bad=$bad`, board, files)

	progress, err := watchDir(host)
	if err != nil {
		t.Fatal(err)
	}
	defer progress.close()
	var wg sync.WaitGroup
	var out string
	var code int
	wg.Add(1)
	go func() {
		defer wg.Done()
		out, code = run(t, b, script)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i, at := range []int{5, 20, 40} { // restart when the loop has written f<at>
		if err := progress.waitFor(ctx, fmt.Sprintf("f%d.md5", at)); err != nil {
			t.Fatal(err)
		}
		if err := b.RestartServers(ctx); err != nil {
			t.Fatalf("restart %d: %v", i+1, err)
		}
	}
	wg.Wait()
	t.Logf("loop output: %q", out)
	// Kernel messages may be interleaved ("random: crng init done").
	if code != 0 || !strings.Contains(out, "loop done bad=0\n") || strings.Contains(out, "BAD") || strings.Contains(out, "tale") {
		t.Errorf("the board's loop: exit %d, output %q; want no error", code, out)
	}
	for i := range files {
		data, err := os.ReadFile(filepath.Join(host, fmt.Sprintf("f%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		sum, err := os.ReadFile(filepath.Join(host, fmt.Sprintf("f%d.md5", i)))
		if err != nil {
			t.Fatal(err)
		}
		if len(data) != 16<<10 || !strings.HasPrefix(string(sum), fmt.Sprintf("%x ", md5.Sum(data))) {
			t.Errorf("f%d: %d bytes, md5 %x, board's md5 %q", i, len(data), md5.Sum(data), sum)
		}
	}
}

// dirWatch reports names created in a directory (inotify).
type dirWatch struct {
	fd   int
	seen map[string]bool
}

func watchDir(dir string) (*dirWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO|unix.IN_CREATE); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &dirWatch{fd: fd, seen: map[string]bool{}}, nil
}

func (w *dirWatch) close() { unix.Close(w.fd) }

// waitFor waits until name has been created in the directory.
func (w *dirWatch) waitFor(ctx context.Context, name string) error {
	buf := make([]byte, 64<<10)
	for !w.seen[name] {
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for %s: %w", name, ctx.Err())
		}
		pfd := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, 1000); err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			continue
		}
		n, err := unix.Read(w.fd, buf)
		if err != nil {
			return err
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			nameBytes := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			w.seen[strings.TrimRight(string(nameBytes), "\x00")] = true
			off += unix.SizeofInotifyEvent + int(ev.Len)
		}
	}
	return nil
}

// TestMountFailure: when the board cannot mount its root, bootrig says
// why from what its servers saw, long before the kernel's own ~96 s.
func TestMountFailure(t *testing.T) {
	if !inLab(t) {
		return
	}
	tests := []struct {
		name string
		edit func(*up.Config)
		want error
	}{
		{"export path refused", func(c *up.Config) { c.RootFS, c.Netboot.Export = c.Netboot.Export, "/no/such/export" }, up.ErrNFSMountFailed},
		{"client not allowed", func(c *up.Config) { c.NFSAllow = []netip.Prefix{netip.MustParsePrefix("10.9.9.9/32")} }, up.ErrNFSRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config(t)
			c.MountWait = 5 * time.Second
			tt.edit(&c)
			t0 := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			b, err := up.Start(ctx, c)
			if err == nil {
				b.Close(context.Background())
				t.Fatalf("boot succeeded, want %v", tt.want)
			}
			t.Logf("after %v: %v", time.Since(t0), err)
			if !errors.Is(err, tt.want) || !errors.Is(err, up.ErrMountFailed) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}
