package tftp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bootrig/bootrig/internal/netnstest"
)

// TestDownloadRealClients fetches files of the edge sizes with curl,
// tftp-hpa and atftp and compares their sha256 with the source.
func TestDownloadRealClients(t *testing.T) {
	root := t.TempDir()
	sizes := []int64{0, 1, 511, 512, 513, 1 << 20}
	for _, n := range sizes {
		writeRandom(t, filepath.Join(root, fmt.Sprintf("f%d.bin", n)), n)
	}
	mkdirs(t, filepath.Join(root, "boot", "dtb"))
	writeRandom(t, filepath.Join(root, "boot", "dtb", "board.dtb"), 4000)
	h := serve(t, &Server{Root: root})
	clients := []struct {
		name string
		argv func(name, out string) []string
	}{
		{"curl", func(n, o string) []string { return curlArgs(h.addr, n, 0, o) }},
		{"curl-blksize-1468", func(n, o string) []string { return curlArgs(h.addr, n, 1468, o) }},
		{"curl-blksize-8192", func(n, o string) []string { return curlArgs(h.addr, n, 8192, o) }},
		{"tftp-hpa", func(n, o string) []string { return tftpHPAArgs(h.addr, n, o) }},
		{"atftp-blksize-1468", func(n, o string) []string { return atftpArgs(h.addr, n, 1468, o) }},
	}
	names := []string{"boot/dtb/board.dtb"}
	for _, n := range sizes {
		names = append(names, fmt.Sprintf("f%d.bin", n))
	}
	for _, c := range clients {
		for _, name := range names {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "out")
				if code, msg := run(t, c.argv(name, out)); code != 0 || strings.Contains(msg, "rror") {
					t.Fatalf("%v: exit %d: %s", c.argv(name, out), code, msg)
				}
				if sum(t, out) != sum(t, filepath.Join(root, name)) {
					t.Errorf("sha256 of %s differs from the source", name)
				}
			})
		}
	}
	h.shutdown(t)
	// One log line per transfer, with the fields the issue asks for.
	lines := regexp.MustCompile(`(?m)^.*msg="tftp: transfer".*$`).FindAllString(h.logs.String(), -1)
	if want := len(clients) * len(names); len(lines) != want {
		t.Errorf("%d transfer log lines, want %d:\n%s", len(lines), want, h.logs)
	}
	re := regexp.MustCompile(`client=127\.0\.0\.1:\d+ op=read file=f1048576\.bin bytes=1048576 blksize=8192 duration=\S+ rate="[\d.]+ MiB/s" retransmits=\d+`)
	if !re.MatchString(h.logs.String()) {
		t.Errorf("no log line matching %s in:\n%s", re, h.logs)
	}
}

// TestDownloadRollover fetches 40 MiB at blksize 512: 81920 blocks, so
// the 16-bit block number wraps past 65535.
func TestDownloadRollover(t *testing.T) {
	root := t.TempDir()
	const size = 40 << 20
	writeRandom(t, filepath.Join(root, "big.bin"), size)
	progress := &syncBuffer{}
	h := serve(t, &Server{Root: root, Progress: progress})
	out := filepath.Join(t.TempDir(), "out")
	start := time.Now()
	if code, msg := run(t, curlArgs(h.addr, "big.bin", 512, out)); code != 0 {
		t.Fatalf("curl: exit %d: %s", code, msg)
	}
	t.Logf("40 MiB at blksize 512 (81920 blocks) with curl: %v", time.Since(start))
	if sum(t, out) != sum(t, filepath.Join(root, "big.bin")) {
		t.Errorf("sha256 of the 40 MiB download differs from the source")
	}
	h.shutdown(t)
	if !regexp.MustCompile(`\rtftp read big\.bin 127\.0\.0\.1:\d+: 100\.0% of 40\.0 MiB, [\d.]+ MiB/s\x1b\[K\n$`).MatchString(progress.String()) {
		t.Errorf("progress output does not end in a 100%% line: %q", tail(progress.String(), 200))
	}
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

// TestConcurrentClients runs 8 downloads at once.
func TestConcurrentClients(t *testing.T) {
	root := t.TempDir()
	writeRandom(t, filepath.Join(root, "k.bin"), 2<<20)
	want := sum(t, filepath.Join(root, "k.bin"))
	h := serve(t, &Server{Root: root})
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]string, 8)
	blksizes := []int{0, 512, 1024, 1468, 4096, 8192, 16384, 65464}
	for i := range 8 {
		wg.Go(func() {
			argv := curlArgs(h.addr, "k.bin", blksizes[i], filepath.Join(dir, fmt.Sprint(i)))
			if i%4 == 3 {
				argv = atftpArgs(h.addr, "k.bin", blksizes[i], filepath.Join(dir, fmt.Sprint(i)))
			}
			if code, msg := run(t, argv); code != 0 {
				errs[i] = fmt.Sprintf("%v: exit %d: %s", argv, code, msg)
			}
		})
	}
	wg.Wait()
	for i := range 8 {
		if errs[i] != "" {
			t.Error(errs[i])
			continue
		}
		if sum(t, filepath.Join(dir, fmt.Sprint(i))) != want {
			t.Errorf("client %d (blksize %d): sha256 differs", i, blksizes[i])
		}
	}
}

// TestUploadRealClients uploads with curl and atftp to a writable server.
func TestUploadRealClients(t *testing.T) {
	root := t.TempDir()
	src := t.TempDir()
	for _, n := range []int64{0, 513, 3 << 20} {
		writeRandom(t, filepath.Join(src, fmt.Sprint(n)), n)
	}
	if err := os.WriteFile(filepath.Join(root, "old"), []byte("old contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	progress := &syncBuffer{}
	h := serve(t, &Server{Root: root, Writable: true, Progress: progress})
	for _, c := range []struct {
		name, local, remote string
		argv                func(local, remote string) []string
	}{
		{"curl-0", "0", "c0", func(l, r string) []string { return curlPutArgs(h.addr, l, r) }},
		{"curl-3MiB", fmt.Sprint(3 << 20), "c3", func(l, r string) []string { return curlPutArgs(h.addr, l, r) }},
		{"curl-overwrite", "513", "old", func(l, r string) []string { return curlPutArgs(h.addr, l, r) }},
		{"atftp-513", "513", "a513", func(l, r string) []string { return atftpPutArgs(h.addr, l, r) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			local := filepath.Join(src, c.local)
			if code, msg := run(t, c.argv(local, c.remote)); code != 0 {
				t.Fatalf("exit %d: %s", code, msg)
			}
		})
	}
	h.shutdown(t)
	for local, remote := range map[string]string{"0": "c0", fmt.Sprint(3 << 20): "c3", "513": "old"} {
		if sum(t, filepath.Join(root, remote)) != sum(t, filepath.Join(src, local)) {
			t.Errorf("uploaded %s differs from %s", remote, local)
		}
	}
	if sum(t, filepath.Join(root, "a513")) != sum(t, filepath.Join(src, "513")) {
		t.Errorf("atftp upload differs")
	}
	// curl sends tsize with an upload, so the 3 MiB one shows progress;
	// the small ones do not.
	if p := progress.String(); !strings.Contains(p, "\rtftp write c3 127.0.0.1:") || !strings.Contains(p, "100.0% of 3.0 MiB") || strings.Contains(p, "a513") {
		t.Errorf("progress output: %q", tail(p, 300))
	}
	if got := strings.Join(listDir(t, root), " "); got != "a513 c0 c3 old" {
		t.Errorf("root holds %q, want only the uploads (no temporary files)", got)
	}
}

// TestIPv6 downloads over ::1 from a dual-stack socket, and checks that
// Allow sees the plain IPv4 address of an IPv4 client on that socket.
// It re-runs itself in a private network namespace, where lo has ::1
// even when the host has IPv6 off. (A thread-only namespace would not
// do: pin/tftp opens each transfer's socket from goroutines of its own.)
func TestIPv6(t *testing.T) {
	if !netnstest.Isolate(t) {
		return
	}
	root := t.TempDir()
	writeRandom(t, filepath.Join(root, "f"), 70000)
	srv := &Server{Root: root, Allow: []netip.Prefix{netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("127.0.0.1/32")}}
	conn, err := Listen("[::]:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(conn) }()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	for _, host := range []string{"[::1]", "127.0.0.1"} {
		out := filepath.Join(t.TempDir(), "out")
		argv := []string{"curl", "--silent", "--show-error", "--tftp-blksize", "1468", "-o", out, fmt.Sprintf("tftp://%s:%d/f", host, port)}
		if code, msg := run(t, argv); code != 0 {
			t.Fatalf("%v: exit %d: %s", argv, code, msg)
		}
		if sum(t, out) != sum(t, filepath.Join(root, "f")) {
			t.Errorf("%s: sha256 differs", host)
		}
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	if err := <-errc; !errors.Is(err, ErrServerClosed) {
		t.Error(err)
	}
}

// TestAbsoluteNames: `get /small.txt` is served from the root, as
// tftpd-hpa -s serves it, with tftp-hpa and atftp; an absolute name
// still cannot leave the root.
func TestAbsoluteNames(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	mkdirs(t, filepath.Join(root, "boot"))
	writeRandom(t, filepath.Join(root, "small.txt"), 700)
	writeRandom(t, filepath.Join(root, "boot", "uImage"), 5000)
	writeRandom(t, filepath.Join(base, "secret"), 10)
	h := serve(t, &Server{Root: root})
	for _, c := range []struct {
		argv func(out string) []string
		src  string
	}{
		{func(o string) []string { return tftpHPAArgs(h.addr, "/small.txt", o) }, "small.txt"},
		{func(o string) []string { return tftpHPAArgs(h.addr, "/boot/uImage", o) }, "boot/uImage"},
		{func(o string) []string { return atftpArgs(h.addr, "//boot/uImage", 1468, o) }, "boot/uImage"},
	} {
		out := filepath.Join(t.TempDir(), "out")
		argv := c.argv(out)
		if code, msg := run(t, argv); code != 0 || strings.Contains(msg, "rror") {
			t.Errorf("%v: exit %d: %s", argv, code, msg)
			continue
		}
		if sum(t, out) != sum(t, filepath.Join(root, c.src)) {
			t.Errorf("%v: sha256 differs from %s", argv, c.src)
		}
	}
	// The secret beside the root, by its absolute path or by "..".
	for _, name := range []string{filepath.Join(base, "secret"), "/../secret"} {
		out := filepath.Join(t.TempDir(), "out")
		if _, msg := run(t, tftpHPAArgs(h.addr, name, out)); !strings.Contains(msg, "Error code") {
			t.Errorf("get %s: %q, want a TFTP error", name, msg)
		}
	}
}
