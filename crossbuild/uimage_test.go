package crossbuild

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/boards"
)

// TestKernelUImageMatchesMkimage: the Go-written kernel uImage is
// byte-identical to mkimage's with the same pinned time, and mkimage -l
// reads it back with the board's addresses.
func TestKernelUImageMatchesMkimage(t *testing.T) {
	dir := t.TempDir()
	payload := filepath.Join(dir, "zImage")
	os.WriteFile(payload, bytes.Repeat([]byte("not really a kernel "), 1000), 0o644)
	ours, theirs := filepath.Join(dir, "uImage"), filepath.Join(dir, "uImage.mkimage")
	if err := writeUImage(kernelImage("Linux qemu-arm", 0x40008000, 0x40008000), payload, ours); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("mkimage", "-A", "arm", "-O", "linux", "-T", "kernel", "-C", "none", "-a", "0x40008000", "-e", "0x40008000",
		"-n", "Linux qemu-arm", "-d", payload, theirs)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1767225600")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkimage: %v\n%s", err, out)
	}
	a, _ := os.ReadFile(ours)
	b, _ := os.ReadFile(theirs)
	if !bytes.Equal(a, b) {
		t.Errorf("uImage differs from mkimage's (%d vs %d bytes)", len(a), len(b))
	}
	out, err := exec.Command("mkimage", "-l", ours).CombinedOutput()
	if err != nil {
		t.Fatalf("mkimage -l: %v\n%s", err, out)
	}
	for _, want := range []string{"Load Address: 40008000", "Entry Point:  40008000", "ARM Linux Kernel Image (uncompressed)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("mkimage -l lacks %q:\n%s", want, out)
		}
	}
}

// TestUImageFollowsProfile: a new load address in the profile rewrites
// the uImage even though the kernel did not change.
func TestUImageFollowsProfile(t *testing.T) {
	dir := t.TempDir()
	zImage, out := filepath.Join(dir, "zImage"), filepath.Join(dir, "uImage")
	os.WriteFile(zImage, []byte("kernel"), 0o644)
	p := boards.Profile{Name: "b", Kernel: boards.Kernel{LoadAddr: 0x30008000, EntryAddr: 0x30008000}}
	b := builder{c: Config{Board: &p}}
	if err := b.uImage(zImage, out); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(out)
	if err := b.uImage(zImage, out); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.Stat(out); !os.SameFile(before, again) {
		t.Error("an up-to-date uImage was rewritten")
	}
	p.Kernel.LoadAddr, p.Kernel.EntryAddr = 0x40008000, 0x40008000
	if err := b.uImage(zImage, out); err != nil {
		t.Fatal(err)
	}
	listing, _ := exec.Command("mkimage", "-l", out).CombinedOutput()
	if !strings.Contains(string(listing), "Load Address: 40008000") {
		t.Errorf("uImage not rewritten for the new load address:\n%s", listing)
	}
}
