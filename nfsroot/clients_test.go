package nfsroot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bootrig/bootrig/devtable"
)

// libnfsURL is a libnfs URL for path on the server at addr, with the
// ports given so that no portmapper is needed.
func libnfsURL(addr, path string) string {
	_, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf("nfs://127.0.0.1%s?version=3&nfsport=%s&mountport=%s", path, port, port)
}

// runTool runs a client from libnfs-utils and returns its output.
func runTool(t *testing.T, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%q: %v\n%s", argv, err, out)
	}
	return string(out)
}

func sha(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func randomFile(t *testing.T, path string, n int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, n); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLibnfsClients uses Debian's libnfs-utils against the server:
// listing, reading, writing, symlinks, the overlay (root:root, device
// nodes) before and after a restart, a 10,000-entry directory and a
// 64 MiB file both ways.
func TestLibnfsClients(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "rootfs")
	writeFile(t, filepath.Join(dir, "etc", "hostname"), []byte("board\n"))
	os.Symlink("/usr/lib", filepath.Join(dir, "lib"))
	os.Symlink("../../../etc/shadow", filepath.Join(dir, "etc", "evil"))
	randomFile(t, filepath.Join(dir, "big.bin"), 64<<20)
	for i := range 10000 {
		writeFile(t, filepath.Join(dir, "many", fmt.Sprintf("entry-%05d", i)), nil)
	}
	x := openExport(t, dir, ExportOptions{})
	if err := x.Seed(devtable.Default("ttyAMA0")); err != nil {
		t.Fatal(err)
	}
	h := start(t, dir, &Server{Export: x})

	if got := runTool(t, "nfs-cat", libnfsURL(h.addr, "/etc/hostname")); got != "board\n" {
		t.Errorf("nfs-cat /etc/hostname: %q", got)
	}
	if got := runTool(t, "nfs-cat", libnfsURL(h.addr, dir+"/etc/hostname")); got != "board\n" {
		t.Errorf("nfs-cat through the export's host path: %q", got)
	}
	ls := runTool(t, "nfs-ls", libnfsURL(h.addr, "/"))
	for _, re := range []string{
		`(?m)^lrwxrwxrwx\s+1\s+0\s+0\s+\d+ lib$`,
		`(?m)^drwxr-xr-x\s+\d+\s+0\s+0\s+\d+ etc$`,
		`(?m)^-rw-r--r--\s+1\s+0\s+0\s+67108864 big.bin$`,
	} {
		if !regexp.MustCompile(re).MatchString(ls) {
			t.Errorf("nfs-ls /: no line matching %s in:\n%s", re, ls)
		}
	}
	devRE := []string{`(?m)^crw-------\s+1\s+0\s+0\s+0 console$`, `(?m)^crw-rw-rw-\s+1\s+0\s+0\s+0 null$`}
	checkDev := func(when string) {
		t.Helper()
		ls := runTool(t, "nfs-ls", libnfsURL(h.addr, "/dev"))
		for _, re := range devRE {
			if !regexp.MustCompile(re).MatchString(ls) {
				t.Errorf("%s: nfs-ls /dev: no line matching %s in:\n%s", when, re, ls)
			}
		}
	}
	checkDev("served")
	if got := runTool(t, "nfs-ls", libnfsURL(h.addr, "/many")); strings.Count(got, "\n") != 10000 {
		t.Errorf("nfs-ls of a 10,000-entry directory: %d lines", strings.Count(got, "\n"))
	}
	// An escaping symlink is not followed (libnfs resolves it itself
	// and finds no such file on the server).
	if out, err := exec.Command("nfs-cat", libnfsURL(h.addr, "/etc/evil")).CombinedOutput(); err == nil {
		t.Errorf("nfs-cat through ../../../etc/shadow succeeded: %q", out)
	}

	// 64 MiB down and up. (libnfs 4.0 takes the URL's directory as the
	// export and refuses an empty one, so files in the root are named
	// through the export's host path.)
	down := filepath.Join(base, "down.bin")
	runTool(t, "nfs-cp", libnfsURL(h.addr, dir+"/big.bin"), down)
	if sha(t, down) != sha(t, filepath.Join(dir, "big.bin")) {
		t.Errorf("sha256 of the 64 MiB file read with nfs-cp differs")
	}
	up := filepath.Join(base, "up.bin")
	randomFile(t, up, 64<<20)
	runTool(t, "nfs-cp", up, libnfsURL(h.addr, dir+"/up.bin"))
	if sha(t, filepath.Join(dir, "up.bin")) != sha(t, up) {
		t.Errorf("sha256 of the 64 MiB file written with nfs-cp differs")
	}

	h.stop()
	h = start(t, dir, nil)
	checkDev("after restart")
}
