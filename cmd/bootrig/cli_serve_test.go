package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bootrig/bootrig/internal/netnstest"

	"github.com/bootrig/bootrig/internal/bootrigtest"
)

// serveRun is one `bootrig serve ARGS` in a private network namespace
// (its real ports: 69, 111, 2049), a real client session against it,
// then Ctrl-C.
type serveRun struct {
	stdout, stderr string
}

func serveInNetns(t *testing.T, cache string, args []string, clients func() error) serveRun {
	t.Helper()
	var r serveRun
	err := netnstest.Run(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bootrigtest.Binary(t), append([]string{"serve"}, args...)...)
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir(), "BOOTRIG_CACHE="+cache)
		stdout, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		var out strings.Builder
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			out.WriteString(lines.Text() + "\n")
			if lines.Text() == "Ctrl-C stops" {
				break
			}
		}
		cerr := clients()
		cmd.Process.Signal(syscall.SIGINT)
		rest, _ := io.ReadAll(stdout)
		out.Write(rest)
		werr := cmd.Wait()
		r = serveRun{stdout: out.String(), stderr: stderr.String()}
		if cerr != nil {
			return cerr
		}
		return werr
	})
	if err != nil {
		t.Fatalf("serve %q: %v\nstdout:\n%s\nstderr:\n%s", args, err, r.stdout, r.stderr)
	}
	return r
}

// onLoopback serves loopback's clients on 127.0.0.1.
var onLoopback = []string{"--listen", "127.0.0.1", "--allow", "127.0.0.0/8"}

// TestServeSaysWhatItServes: serve's stdout names each server, its
// address and the tree it serves; a --rootfs the user gave gets nothing
// created in it without a device table; ordinary NFS clients (libnfs's
// nfs-ls, rpcinfo) leave no warnings behind.
func TestServeSaysWhatItServes(t *testing.T) {
	tftpRoot, rootfs := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(rootfs, "hello"), []byte("hi\n"), 0o644)
	clients := func() error {
		for i := 0; i < 3; i++ {
			if out, err := exec.Command("nfs-ls", "nfs://127.0.0.1"+rootfs+"?version=3").CombinedOutput(); err != nil || !strings.Contains(string(out), "hello") {
				return &exec.ExitError{Stderr: out}
			}
		}
		out, err := exec.Command("rpcinfo", "-p", "127.0.0.1").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "100003") {
			return &exec.ExitError{Stderr: out}
		}
		return nil
	}
	r := serveInNetns(t, t.TempDir(), append(onLoopback, "--tftp-root", tftpRoot, "--rootfs", rootfs), clients)
	for _, want := range []string{
		"serving board qemu-arm:\n",
		"  TFTP        127.0.0.1:69             " + tftpRoot + " (read-only)\n",
		"  NFS v3      127.0.0.1:2049           " + rootfs + " (not bootrig's build: nothing created in it (--devices FILE seeds /dev and ownership); the board's owners, modes and devices in " + filepath.Dir(rootfs) + "/." + filepath.Base(rootfs) + ".bootrig-meta.db)\n",
		"  portmapper  127.0.0.1:111            NFS and MOUNT on port 2049\n",
	} {
		if !strings.Contains(squeeze(r.stdout), squeeze(want)) {
			t.Errorf("serve's stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if names, _ := os.ReadDir(rootfs); len(names) != 1 {
		t.Errorf("serve created files in the user's rootfs: %v", names)
	}
	if strings.Contains(r.stderr, "level=WARN") {
		t.Errorf("ordinary clients left warnings:\n%s", r.stderr)
	}

	// A bare serve of a tree bootrig built says which one, and seeds it.
	cache := t.TempDir()
	built := filepath.Join(cache, "qemu-arm", "out", "rootfs")
	os.MkdirAll(built, 0o755)
	r = serveInNetns(t, cache, onLoopback, func() error { return nil })
	if !strings.Contains(squeeze(r.stdout), squeeze("TFTP 127.0.0.1:69 "+filepath.Dir(built)+" (read-only)\n")) ||
		!strings.Contains(squeeze(r.stdout), squeeze("NFS v3 127.0.0.1:2049 "+built+" (bootrig's default /dev and mount points;")) {
		t.Errorf("bare serve's stdout does not name the trees:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(built, "dev", "console")); err != nil {
		t.Errorf("the built tree was not seeded: %v", err)
	}
}

// squeeze makes runs of blanks one: the columns are for people.
func squeeze(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(lines, "\n")
}
