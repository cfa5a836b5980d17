package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootrig/bootrig/lab"
)

// TestInstanceUsageErrors: bad names, actions and shares are usage
// errors (exit 2) that say what is wrong, before anything starts.
func TestInstanceUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"up", "--name", "../b2", "--run", "true"}, `--name: bad instance name "../b2"`},
		{[]string{"rootfs", "path", "--name", "B 2"}, "bad instance name"},
		{[]string{"power", "reboot"}, `unknown power action "reboot"`},
		{[]string{"power"}, "want one action: on, off or cycle"},
		{[]string{"power", "cycle", "--board", "mini2440"}, "give --power-cmd CMD (run as CMD cycle)"},
		{[]string{"console", "--port", "/dev/null", "--share", "unix:/tmp/x"}, "want rfc2217://HOST:PORT or tcp://HOST:PORT"},
		{[]string{"ps", "extra"}, "takes no arguments"},
		{[]string{"up", "--share", "telnet:4001", "--run", "true"}, "--share telnet:4001"},
	} {
		_, stderr, code := runBootrig(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("bootrig %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

// TestPSNoneAndNotRunning: with no instance running, ps prints its
// header alone, and power and export say no board runs.
func TestPSNoneAndNotRunning(t *testing.T) {
	t.Setenv("BOOTRIG_STATE", t.TempDir())
	stdout, _, code := runBootrig(t, "ps")
	if code != 0 || !strings.HasPrefix(stdout, "BOARD  NAME  CONSOLE") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("ps: exit %d, %q", code, stdout)
	}
	for _, args := range [][]string{{"power", "on", "--name", "b2"}, {"export", "labgrid", "--name", "b2"}} {
		_, stderr, code := runBootrig(t, args...)
		if code != exitFailure || !strings.Contains(stderr, "no running lab") || !strings.Contains(stderr, "instances/b2/state") {
			t.Errorf("bootrig %s: exit %d, %q", strings.Join(args, " "), code, stderr)
		}
	}
}

func TestWritePS(t *testing.T) {
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	var b strings.Builder
	writePS(&b, []lab.State{
		{Board: "qemu-arm", Name: "b2", Console: "/dev/pts/7", Consoles: []string{"rfc2217://127.0.0.1:4001", "tcp://127.0.0.1:4002"},
			BoardIP: "192.168.7.2", ServerIP: "192.168.7.1", Started: now.Add(-95 * time.Second), QEMUPid: 4242},
		{Board: "qemu-arm", Console: "/dev/pts/3", QEMUPid: 17},
	}, now)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	for i, want := range [][]string{
		{"qemu-arm", "b2", "/dev/pts/7", "rfc2217://127.0.0.1:4001", "tcp://127.0.0.1:4002", "192.168.7.2", "192.168.7.1", "1m35s", "4242"},
		{"qemu-arm", "qemu-arm", "/dev/pts/3", "-", "-", "-", "-", "17"},
	} {
		if got := strings.Fields(lines[i+1]); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("line %d: %q, want %q", i+1, got, want)
		}
	}
}

func TestCopyArgs(t *testing.T) {
	if got := strings.Join(copyArgs("/a/rootfs", "/b/rootfs.tmp"), " "); got != "-a --reflink=auto -- /a/rootfs /b/rootfs.tmp" {
		t.Errorf("copyArgs = %q", got)
	}
}

// TestNameFindsBoard: --name without --board finds the running
// instance's board.
func TestNameFindsBoard(t *testing.T) {
	root := t.TempDir()
	t.Setenv("BOOTRIG_STATE", root)
	dir := lab.Instance{Board: "mini2440", Name: "m1"}.StateDir(root)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := (lab.State{Board: "mini2440", Name: "m1", QEMUPid: os.Getpid()}).Save(dir); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runBootrig(t, "rootfs", "path", "--name", "m1")
	if want := filepath.Join(root, "mini2440", "instances", "m1", "rootfs"); code != 0 || strings.TrimSpace(stdout) != want {
		t.Errorf("rootfs path --name m1: exit %d, %q (%s), want %s", code, stdout, stderr, want)
	}
}

// TestExportLava: the dictionary of a running instance (its state
// saved by up) names its shared console, its power through this
// bootrig with its state and name, and boots its own rootfs.
func TestExportLava(t *testing.T) {
	root := t.TempDir()
	t.Setenv("BOOTRIG_STATE", root)
	dir := lab.Instance{Board: "qemu-arm", Name: "b2"}.StateDir(root)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	st := lab.State{Board: "qemu-arm", Name: "b2", QEMUPid: os.Getpid(), BootDelay: 2, Consoles: []string{"tcp://127.0.0.1:4002", "rfc2217://127.0.0.1:4001"}}
	if err := st.Save(dir); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runBootrig(t, "export", "lava", "--name", "b2")
	rootfs := filepath.Join(root, "qemu-arm", "instances", "b2", "rootfs")
	for _, want := range []string{
		"{% extends 'base-uboot.jinja2' %}\n",
		"{% set connection_command = 'telnet 127.0.0.1 4001' %}\n",
		" power --board qemu-arm --state " + dir + " --name b2 cycle' %}\n",
		"nfsroot=192.168.7.1:" + rootfs + ",",
	} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("export lava: exit %d, %s; output lacks %q:\n%s", code, stderr, want, stdout)
		}
	}
	st.Consoles = st.Consoles[:1]
	if err := st.Save(dir); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runBootrig(t, "export", "lava", "--name", "b2", "--device-type", "vexpress")
	if code != exitFailure || !strings.Contains(stderr, "not shared over RFC 2217") || !strings.Contains(stderr, "--share rfc2217://") {
		t.Errorf("export lava of a board shared over tcp only: exit %d, %q", code, stderr)
	}
}
