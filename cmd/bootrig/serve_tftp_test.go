package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bootrig/bootrig/internal/bootrigtest"
)

func TestServeTFTPErrors(t *testing.T) {
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := fmt.Sprint(taken.LocalAddr().(*net.UDPAddr).Port)
	root := t.TempDir()
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"serve", "--no-nfs", "--tftp-port", "0"}, 2, "--tftp-port 0 is not a UDP port"},
		{[]string{"serve", "--no-nfs", "--allow", "lab"}, 2, `--allow "lab"`},
		{[]string{"serve", "--no-nfs", "--tftp-root", "/nonexistent/out"}, 1, "TFTP root /nonexistent/out is not a directory"},
		{[]string{"serve", "--no-nfs", "--tftp-root", root, "--listen", "127.0.0.1", "--tftp-port", port}, 1,
			"port already in use: UDP port " + port},
	}
	for _, tc := range tests {
		_, stderr, code := runBootrig(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("bootrig %q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.msg)
		}
	}
}

// TestServeTFTP runs `bootrig serve --no-nfs`, downloads with curl,
// and stops it with SIGINT.
func TestServeTFTP(t *testing.T) {
	root := t.TempDir()
	want := bytes.Repeat([]byte("uImage"), 50000)
	if err := os.WriteFile(filepath.Join(root, "uImage"), want, 0o644); err != nil {
		t.Fatal(err)
	}
	// A free port: bind, note, release. Nothing else here binds it.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bootrigtest.Binary(t), "serve", "--no-nfs", "--listen", "127.0.0.1",
		"--tftp-port", fmt.Sprint(port), "--tftp-root", root, "--allow", "127.0.0.0/8")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir(), "BOOTRIG_CACHE="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	for lines.Scan() && !strings.Contains(lines.Text(), `msg="tftp: serving"`) {
	}
	out := filepath.Join(t.TempDir(), "out")
	curl := exec.CommandContext(ctx, "curl", "-sS", "--tftp-blksize", "1468", "-o", out, fmt.Sprintf("tftp://127.0.0.1:%d/uImage", port))
	if msg, err := curl.CombinedOutput(); err != nil {
		t.Fatalf("curl: %v: %s", err, msg)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
		t.Errorf("downloaded %d bytes, differing from the %d served", len(got), len(want))
	}
	cmd.Process.Signal(syscall.SIGINT)
	var rest strings.Builder
	for lines.Scan() {
		rest.WriteString(lines.Text() + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGINT: %v\n%s", err, rest.String())
	}
	if !strings.Contains(rest.String(), `msg="tftp: transfer" client=127.0.0.1:`) ||
		!strings.Contains(rest.String(), "file=uImage bytes=300000 blksize=1468") {
		t.Errorf("no transfer log line in:\n%s", rest.String())
	}
}
