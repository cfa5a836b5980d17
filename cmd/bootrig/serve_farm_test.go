package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/internal/netnstest"
)

// TestServeFarm: `bootrig serve --farm` serves two boards, 127.0.0.2
// and 127.0.0.3, on one set of ports: each downloads its own kernel
// over TFTP and mounts its own export through the portmapper (libnfs's
// nfs-cat, curl); b2 is refused b1's export. stdout says what each gets.
func TestServeFarm(t *testing.T) {
	dir := t.TempDir()
	type board struct{ name, ip, rootfs, tftp string }
	var bs []board
	var file strings.Builder
	file.WriteString("boards:\n")
	for i, ip := range []string{"127.0.0.2", "127.0.0.3"} {
		b := board{fmt.Sprintf("b%d", i+1), ip, filepath.Join(dir, fmt.Sprintf("b%d", i+1), "rootfs"), filepath.Join(dir, fmt.Sprintf("b%d", i+1), "boot")}
		os.MkdirAll(filepath.Join(b.rootfs, "etc"), 0o755)
		os.MkdirAll(b.tftp, 0o755)
		os.WriteFile(filepath.Join(b.rootfs, "etc", "hostname"), []byte(b.name+"\n"), 0o644)
		os.WriteFile(filepath.Join(b.tftp, "uImage"), []byte("kernel of "+b.name), 0o644)
		fmt.Fprintf(&file, "  - name: %s\n    profile: qemu-arm\n    ip: %s\n    rootfs: %s/rootfs\n    tftp: %s/boot\n", b.name, ip, b.name, b.name)
		bs = append(bs, b)
	}
	path := filepath.Join(dir, "farm.yaml")
	os.WriteFile(path, []byte(file.String()), 0o644)

	clients := func() error {
		for _, b := range bs {
			if err := netnstest.FromItself(netip.MustParseAddr(b.ip)); err != nil {
				return err
			}
		}
		for _, b := range bs {
			out, err := exec.Command("nfs-cat", "nfs://"+b.ip+b.rootfs+"/etc/hostname?version=3").CombinedOutput()
			if err != nil || string(out) != b.name+"\n" {
				return fmt.Errorf("%s: nfs-cat of its hostname: %v: %q", b.name, err, out)
			}
			got := filepath.Join(dir, b.name+".got")
			if out, err := exec.Command("curl", "-sS", "-o", got, "tftp://"+b.ip+"/uImage").CombinedOutput(); err != nil {
				return fmt.Errorf("%s: curl: %v: %s", b.name, err, out)
			}
			if data, _ := os.ReadFile(got); !bytes.Equal(data, []byte("kernel of "+b.name)) {
				return fmt.Errorf("%s downloaded %q", b.name, data)
			}
		}
		if out, err := exec.Command("nfs-cat", "nfs://127.0.0.3"+bs[0].rootfs+"/etc/hostname?version=3").CombinedOutput(); err == nil {
			return fmt.Errorf("b2 read b1's export: %q", out)
		}
		return nil
	}
	r := serveInNetns(t, t.TempDir(), []string{"--farm", path}, clients)
	for _, want := range []string{
		"serving farm " + path + " (2 boards):\n",
		"  NFS v3 [::]:2049 each board's export, to that board alone\n",
		"  board b1 127.0.0.2 qemu-arm: TFTP " + bs[0].tftp + "; NFS " + bs[0].rootfs + " to 127.0.0.2 alone (not bootrig's build",
		"  board b2 127.0.0.3 qemu-arm: TFTP " + bs[1].tftp + "; NFS " + bs[1].rootfs + " to 127.0.0.3 alone (",
	} {
		if !strings.Contains(squeeze(r.stdout), squeeze(want)) {
			t.Errorf("serve --farm's stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, `msg="nfs: MOUNT of a path not exported" client=127.0.0.3:`) {
		t.Errorf("b2's mount of b1's export left no refusal in the log:\n%s", r.stderr)
	}
}

func TestServeFarmErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "farm.yaml")
	os.WriteFile(bad, []byte("boards:\n  - name: b1\n    profile: qemu-arm\n    ip: 127.0.0.300\n    rootfs: r\n"), 0o644)
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"serve", "--farm", bad}, 1, "farm " + bad + `:4: board b1: ip "127.0.0.300" is not`},
		{[]string{"serve", "--farm", filepath.Join(dir, "none.yaml")}, 1, "none.yaml: no such file"},
		{[]string{"serve", "--farm", bad, "--rootfs", dir}, 2, "--rootfs names one board's"},
		{[]string{"serve", "--farm", bad, "--board", "mini2440"}, 2, "--board names one board's"},
	}
	for _, tc := range tests {
		_, stderr, code := runBootrig(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("bootrig %q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.msg)
		}
	}
}

// TestServeFarmLeavesEnvAlone: BOOTRIG_BOARD in the environment is no
// --board given with --farm.
func TestServeFarmLeavesEnvAlone(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "farm.yaml")
	os.WriteFile(bad, []byte("boards: []\n"), 0o644)
	t.Setenv("BOOTRIG_BOARD", "mini2440")
	if _, stderr, code := runBootrig(t, "serve", "--farm", bad); code != 1 || !strings.Contains(stderr, "boards: wants a list") {
		t.Errorf("serve --farm with BOOTRIG_BOARD set: exit %d, %q; want the farm file's error", code, stderr)
	}
}
