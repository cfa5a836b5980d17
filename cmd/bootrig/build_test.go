package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildRootFSCommand builds the qemu-arm rootfs through the command
// (busybox comes from bootrig's cache; the first run on a machine builds
// it) with the target before the flags, and reads the JSON result.
func TestBuildRootFSCommand(t *testing.T) {
	out := t.TempDir()
	overlay := t.TempDir()
	os.WriteFile(filepath.Join(overlay, "motd"), []byte("hi\n"), 0o644)
	stdout, stderr, code := runBootrig(t, "build", "rootfs", "--board", "qemu-arm", "--out", out, "--overlay", overlay, "--json")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	var res struct {
		RootFS, DevTable, Busybox string
		Toolchain                 struct{ Prefix string }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if res.RootFS != filepath.Join(out, "rootfs") || res.DevTable != filepath.Join(out, "rootfs.devtable") || res.Toolchain.Prefix == "" {
		t.Errorf("result %+v", res)
	}
	if b, err := os.ReadFile(filepath.Join(res.RootFS, "motd")); string(b) != "hi\n" {
		t.Errorf("overlay file: %q, %v", b, err)
	}
	if !strings.Contains(stderr, "toolchain: ") || !strings.Contains(stderr, "arm-linux-gnueabi") {
		t.Errorf("the toolchain is not reported:\n%s", stderr)
	}
}

func TestBuildCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"build", "bootloader"}, `unknown build target "bootloader": want kernel, busybox, rootfs, uboot or all`},
		{[]string{"build", "kernel", "rootfs"}, "want at most 1 arguments"},
		{[]string{"build", "kernel", "--no-such"}, "flag provided but not defined"},
		{[]string{"build", "kernel", "--board", "nosuch"}, `unknown board "nosuch"`},
		{[]string{"build", "rootfs", "--overlay", "/nonexistent"}, "--overlay /nonexistent is not a directory"},
		{[]string{"initramfs", "onlyone"}, "want DIR and OUT"},
		{[]string{"initramfs", "/nonexistent", "out.cpio.gz"}, "/nonexistent is not a directory"},
	} {
		_, stderr, code := runBootrig(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.err) {
			t.Errorf("bootrig %q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.err)
		}
	}
}

func TestInitramfsCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rootfs")
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc", "hostname"), []byte("x\n"), 0o644)
	os.WriteFile(dir+".devtable", []byte("nod /dev/special 600 0 0 c 10 200\n"), 0o644)
	out := filepath.Join(t.TempDir(), "initrd.uImage")
	if _, stderr, code := runBootrig(t, "initramfs", dir, out, "--uimage"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := exec.Command("mkimage", "-l", out).CombinedOutput()
	if err != nil || !strings.Contains(string(b), "RAMDisk Image") {
		t.Errorf("mkimage -l: %v\n%s", err, b)
	}
	gz := filepath.Join(t.TempDir(), "initrd.cpio.gz")
	if _, stderr, code := runBootrig(t, "initramfs", dir+"/", gz); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cmd := exec.Command("sh", "-c", "gzip -dc < \"$0\" | cpio -itv --quiet", gz)
	list, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(list), "dev/special") || !strings.Contains(string(list), "etc/hostname") {
		t.Errorf("archive listing (%v):\n%s", err, list)
	}
}
